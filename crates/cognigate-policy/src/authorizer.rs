//! The one decision function, and the translation from domain requests to Cedar requests.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use cognigate_config::Config;
use cognigate_domain::PoolKind;
use cognigate_domain::access::AccessModel;
use cognigate_domain::authz::{
    Action, CustomerIdentity, Decision, Principal, RequestContext, Resource, StaffIdentity,
};

use crate::generate;

/// Why the policies could not be built. Any of these stops start-up: there is no authorizing without policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the generated Cedar schema is invalid: {0}")]
    Schema(String),
    #[error("the Cedar policies do not parse: {0}")]
    Parse(String),
    #[error("policy {policy} has no @id annotation; every policy needs one so decisions can name it")]
    MissingId { policy: String },
    #[error("two policies share the id {0}")]
    DuplicateId(String),
    #[error("the Cedar policies do not validate against the schema:\n{0}")]
    Validation(String),
    #[error("cannot build the role entities: {0}")]
    Entities(String),
}

/// Holds the validated schema and policies; cheap to share (`Arc`) and to call from any thread.
#[derive(Debug)]
pub struct Authorizer {
    model: AccessModel,
    application: String,
    schema: Schema,
    policies: PolicySet,
    schema_text: String,
    policy_text: String,
    /// Each action's entity with every group it is in, so a request carries its own hierarchy.
    actions: HashMap<String, Entity>,
    /// Each role's or tier's entity id with every role it inherits from, by (entity type, name).
    role_ancestors: HashMap<(&'static str, String), HashSet<EntityUid>>,
    engine: cedar_policy::Authorizer,
}

impl Authorizer {
    /// Builds the schema and policies from the configuration and validates them, in strict mode.
    pub fn from_config(config: &Config) -> Result<Self, PolicyError> {
        Self::with_rules(config, crate::RULES)
    }

    /// As [`Authorizer::from_config`], with other hand-written rules (tests of the validation itself).
    pub fn with_rules(config: &Config, rules: &str) -> Result<Self, PolicyError> {
        let model = AccessModel::from_config(config);
        let schema_text = generate::schema(&model);
        let (schema, _warnings) = Schema::from_cedarschema_str(&schema_text)
            .map_err(|error| PolicyError::Schema(format!("{error:?}")))?;
        let policy_text = format!("{}\n{rules}", generate::matrix_policies(&model));
        let policies = named_policies(&policy_text)?;
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> =
                result.validation_errors().map(|error| format!("  - {error}")).collect();
            return Err(PolicyError::Validation(errors.join("\n")));
        }
        let actions = action_entities(&model).map_err(PolicyError::Entities)?;
        let role_ancestors = role_ancestors(&model).map_err(PolicyError::Entities)?;
        Ok(Self {
            model,
            application: config.service_name().to_owned(),
            schema,
            policies,
            schema_text,
            policy_text,
            actions,
            role_ancestors,
            engine: cedar_policy::Authorizer::new(),
        })
    }

    /// The Cedar schema, in Cedar's schema syntax.
    pub fn schema_text(&self) -> &str {
        &self.schema_text
    }

    /// The full policy set (generated matrix, then hand-written rules) as Cedar text.
    pub fn policy_text(&self) -> &str {
        &self.policy_text
    }

    /// The resolved access model the policies were generated from.
    pub fn model(&self) -> &AccessModel {
        &self.model
    }

    /// Ids of every policy, in a stable order.
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.policies.policies().map(|p| p.id().to_string()).collect();
        ids.sort();
        ids
    }

    /// Decides whether `principal` may do `action` on `resource` in `context`.
    ///
    /// Never panics and never errs: a request that cannot be evaluated (an unknown role, an action the schema
    /// does not know) is denied, with the reason in [`Decision::errors`].
    pub fn authorize(
        &self,
        principal: &Principal,
        action: &Action,
        resource: &Resource,
        context: &RequestContext,
    ) -> Decision {
        match self.evaluate(principal, action, resource, context) {
            Ok(decision) => decision,
            Err(error) => Decision::deny_with_error(error),
        }
    }

    fn evaluate(
        &self,
        principal: &Principal,
        action: &Action,
        resource: &Resource,
        context: &RequestContext,
    ) -> Result<Decision, String> {
        let mut entities = Vec::with_capacity(4);
        let principal_entity = self.identity_entity(principal_as_resource(principal))?;
        let principal_uid = principal_entity.uid();
        entities.push(principal_entity);
        let resource_uid = match resource {
            Resource::Application => uid("Application", &self.application)?,
            Resource::Team { name } => uid("Team", name)?,
            Resource::Customer(_) | Resource::Staff(_) => {
                let entity = self.identity_entity(resource.clone())?;
                let resource_uid = entity.uid();
                // An action on oneself: the principal entity already stands for the resource.
                if resource_uid != principal_uid {
                    entities.push(entity);
                }
                resource_uid
            }
        };
        let principal_team = match principal {
            Principal::Staff(staff) => staff.team.as_deref(),
            Principal::Customer(customer) => customer.team.as_deref(),
        };
        let resource_team = match resource {
            Resource::Staff(staff) => staff.team.as_deref(),
            Resource::Customer(customer) => customer.team.as_deref(),
            Resource::Team { name } => Some(name.as_str()),
            Resource::Application => None,
        };
        let teams: HashSet<&str> = principal_team.into_iter().chain(resource_team).collect();
        for team in teams {
            entities.push(Entity::new_no_attrs(uid("Team", team)?, HashSet::new()));
        }
        let action_entity =
            self.actions.get(action.id()).ok_or_else(|| format!("unknown action `{}`", action.id()))?;
        let action_uid = action_entity.uid();
        entities.push(action_entity.clone());
        let entities = Entities::from_entities(entities, None).map_err(|error| error.to_string())?;

        let mut pairs: Vec<(String, RestrictedExpression)> = Vec::new();
        if let Some(role) = &context.granted_role {
            let rank = self.model.staff_rank(role).ok_or_else(|| format!("unknown staff role `{role}`"))?;
            pairs.push(("granted_rank".to_owned(), RestrictedExpression::new_long(rank)));
        }
        if let Some(count) = context.active_super_admins {
            let count = i64::try_from(count).map_err(|_| "active_super_admins is out of range".to_owned())?;
            pairs.push(("active_super_admins".to_owned(), RestrictedExpression::new_long(count)));
        }
        if let Some(permanent) = context.permanent_password {
            pairs.push(("permanent_password".to_owned(), RestrictedExpression::new_bool(permanent)));
        }
        let cedar_context = Context::from_pairs(pairs).map_err(|error| error.to_string())?;
        let request =
            Request::new(principal_uid, action_uid, resource_uid, cedar_context, Some(&self.schema))
                .map_err(|error| format!("the request does not fit the schema: {error}"))?;
        let response = self.engine.is_authorized(&request, &self.policies, &entities);
        let mut policies: Vec<String> = response.diagnostics().reason().map(PolicyId::to_string).collect();
        policies.sort();
        let errors: Vec<String> = response.diagnostics().errors().map(ToString::to_string).collect();
        let allowed = response.decision() == cedar_policy::Decision::Allow && errors.is_empty();
        Ok(Decision { allowed, policies, errors })
    }

    /// The role (or tier) itself and every role it inherits from.
    fn ancestors(&self, entity_type: &'static str, name: &str) -> Result<HashSet<EntityUid>, String> {
        self.role_ancestors
            .get(&(entity_type, name.to_owned()))
            .cloned()
            .ok_or_else(|| format!("unknown {entity_type} `{name}`"))
    }

    fn identity_entity(&self, identity: Resource) -> Result<Entity, String> {
        match identity {
            Resource::Customer(customer) => self.customer_entity(&customer),
            Resource::Staff(staff) => self.staff_entity(&staff),
            Resource::Application | Resource::Team { .. } => Err("not an identity".to_owned()),
        }
    }

    fn customer_entity(&self, customer: &CustomerIdentity) -> Result<Entity, String> {
        let access = self.model.pool(PoolKind::Customer);
        if !access.roles.contains_key(&customer.base) {
            return Err(format!("unknown customer base type `{}`", customer.base));
        }
        let mut parents = self.ancestors("CustomerRole", &customer.base)?;
        for tier in &customer.tiers {
            let definition =
                access.tiers.get(tier).ok_or_else(|| format!("unknown customer tier `{tier}`"))?;
            // A tier only counts over a base type it applies to.
            if definition.applies_to.contains(&customer.base) {
                parents.extend(self.ancestors("CustomerTier", tier)?);
            }
        }
        let mut attrs = HashMap::from([
            ("base".to_owned(), RestrictedExpression::new_string(customer.base.clone())),
            ("active".to_owned(), RestrictedExpression::new_bool(customer.active)),
        ]);
        if let Some(team) = &customer.team {
            attrs.insert("team".to_owned(), RestrictedExpression::new_entity_uid(uid("Team", team)?));
        }
        Entity::new(uid("Customer", &customer.id)?, attrs, parents).map_err(|error| error.to_string())
    }

    fn staff_entity(&self, staff: &StaffIdentity) -> Result<Entity, String> {
        let role = self
            .model
            .pool(PoolKind::Staff)
            .roles
            .get(&staff.role)
            .ok_or_else(|| format!("unknown staff role `{}`", staff.role))?;
        let mut parents = self.ancestors("StaffRole", &staff.role)?;
        let mut attrs = HashMap::from([
            ("role".to_owned(), RestrictedExpression::new_string(staff.role.clone())),
            ("rank".to_owned(), RestrictedExpression::new_long(role.rank.unwrap_or_default())),
            ("team_scoped".to_owned(), RestrictedExpression::new_bool(role.team_scoped)),
            ("active".to_owned(), RestrictedExpression::new_bool(staff.active)),
        ]);
        if let Some(team) = &staff.team {
            let team_uid = uid("Team", team)?;
            parents.insert(team_uid.clone());
            attrs.insert("team".to_owned(), RestrictedExpression::new_entity_uid(team_uid));
        }
        Entity::new(uid("Staff", &staff.id)?, attrs, parents).map_err(|error| error.to_string())
    }
}

fn principal_as_resource(principal: &Principal) -> Resource {
    match principal {
        Principal::Customer(customer) => Resource::Customer(customer.clone()),
        Principal::Staff(staff) => Resource::Staff(staff.clone()),
    }
}

fn type_name(name: &str) -> Result<EntityTypeName, String> {
    EntityTypeName::from_str(&format!("{}::{name}", crate::NAMESPACE)).map_err(|error| error.to_string())
}

fn uid(entity_type: &str, id: &str) -> Result<EntityUid, String> {
    Ok(EntityUid::from_type_name_and_id(type_name(entity_type)?, EntityId::new(id)))
}

/// Parses the policy text and renames each policy to its `@id` annotation, so decisions name policies
/// the way the files do.
fn named_policies(text: &str) -> Result<PolicySet, PolicyError> {
    let parsed = PolicySet::from_str(text).map_err(|error| PolicyError::Parse(format!("{error:?}")))?;
    let mut named = PolicySet::new();
    for policy in parsed.policies() {
        let id = policy
            .annotation("id")
            .ok_or_else(|| PolicyError::MissingId { policy: policy.to_string() })?
            .to_owned();
        named.add(policy.new_id(PolicyId::new(&id))).map_err(|_| PolicyError::DuplicateId(id.clone()))?;
    }
    Ok(named)
}

/// The action entities, each with all its groups as parents.
fn action_entities(model: &AccessModel) -> Result<HashMap<String, Entity>, String> {
    generate::action_groups(model)
        .into_iter()
        .map(|(action, _, groups)| {
            let parents =
                groups.iter().map(|group| uid("Action", group)).collect::<Result<HashSet<_>, _>>()?;
            Ok((action.clone(), Entity::new_no_attrs(uid("Action", &action)?, parents)))
        })
        .collect()
}

/// For each role and tier: itself and every role it inherits from, transitively.
fn role_ancestors(
    model: &AccessModel,
) -> Result<HashMap<(&'static str, String), HashSet<EntityUid>>, String> {
    let mut ancestors = HashMap::new();
    for pool in PoolKind::ALL {
        let access = model.pool(pool);
        let role_type = match pool {
            PoolKind::Customer => "CustomerRole",
            PoolKind::Staff => "StaffRole",
        };
        for role in access.roles.values() {
            let mut found = HashSet::new();
            let mut pending = vec![role.name.as_str()];
            while let Some(current) = pending.pop() {
                if found.insert(uid(role_type, current)?) {
                    pending.extend(
                        access
                            .roles
                            .get(current)
                            .into_iter()
                            .flat_map(|r| r.inherits.iter().map(String::as_str)),
                    );
                }
            }
            ancestors.insert((role_type, role.name.clone()), found);
        }
        for tier in access.tiers.values() {
            ancestors.insert(
                ("CustomerTier", tier.name.clone()),
                HashSet::from([uid("CustomerTier", &tier.name)?]),
            );
        }
    }
    Ok(ancestors)
}
