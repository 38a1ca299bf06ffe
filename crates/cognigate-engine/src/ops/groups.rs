//! Groups: CreateGroup, GetGroup, ListGroups, DeleteGroup, AdminAddUserToGroup,
//! AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup. Group names reach tokens as
//! `cognito:groups`.

use crate::api::UserDescription;
use crate::model::Group;
use crate::ops::users::describe;
use crate::{Engine, EngineError};

impl Engine {
    pub async fn create_group(
        &self,
        pool_id: &str,
        name: &str,
        description: Option<&str>,
        precedence: Option<i64>,
    ) -> Result<Group, EngineError> {
        self.pool(pool_id).await?;
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(EngineError::InvalidParameter(
                "GroupName must be 1 to 128 printable characters".to_owned(),
            ));
        }
        if self.parts.store.get_group(pool_id, name).await?.is_some() {
            return Err(EngineError::GroupExists("A group with the name already exists.".to_owned()));
        }
        let now = self.now();
        let group = Group {
            pool_id: pool_id.to_owned(),
            name: name.to_owned(),
            description: description.map(str::to_owned),
            precedence,
            created_ms: now,
            updated_ms: now,
        };
        self.parts.store.put_group(&group).await?;
        Ok(group)
    }

    pub async fn get_group(&self, pool_id: &str, name: &str) -> Result<Group, EngineError> {
        self.parts
            .store
            .get_group(pool_id, name)
            .await?
            .ok_or_else(|| EngineError::ResourceNotFound("Group not found.".to_owned()))
    }

    pub async fn list_groups(&self, pool_id: &str) -> Result<Vec<Group>, EngineError> {
        self.pool(pool_id).await?;
        Ok(self.parts.store.list_groups(pool_id).await?)
    }

    pub async fn delete_group(&self, pool_id: &str, name: &str) -> Result<(), EngineError> {
        self.get_group(pool_id, name).await?;
        self.parts.store.delete_group(pool_id, name).await?;
        Ok(())
    }

    pub async fn admin_add_user_to_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        self.get_group(pool_id, group).await?;
        self.parts.store.add_user_to_group(pool_id, group, &user.sub).await?;
        Ok(())
    }

    pub async fn admin_remove_user_from_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        self.get_group(pool_id, group).await?;
        self.parts.store.remove_user_from_group(pool_id, group, &user.sub).await?;
        Ok(())
    }

    pub async fn admin_list_groups_for_user(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<Group>, EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        Ok(self.parts.store.groups_of_user(pool_id, &user.sub).await?)
    }

    pub async fn list_users_in_group(
        &self,
        pool_id: &str,
        group: &str,
    ) -> Result<Vec<UserDescription>, EngineError> {
        self.get_group(pool_id, group).await?;
        Ok(self.parts.store.users_in_group(pool_id, group).await?.iter().map(describe).collect())
    }
}
