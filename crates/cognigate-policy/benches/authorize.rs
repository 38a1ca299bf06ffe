//! Decisions per second of `Authorizer::authorize` with the full default policy set (cognigate.toml):
//! a typical staff decision (a manager disabling a member of their team, which every rule inspects) and a
//! typical customer decision (a premium dealer on a premium route).
//!
//! Run: `cargo bench -p cognigate-policy --bench authorize`. Criterion prints the median time per decision
//! and, as `thrpt`, decisions per second.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::hint::black_box;

use cognigate_config::Environment;
use cognigate_domain::authz::{
    Action, AdminAction, CustomerIdentity, Principal, RequestContext, Resource, StaffIdentity,
};
use cognigate_policy::Authorizer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let source = include_str!("../../../cognigate.toml");
    let config = match cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    };
    let authorizer = match Authorizer::from_config(&config) {
        Ok(authorizer) => authorizer,
        Err(error) => panic!("{error}"),
    };

    let manager = Principal::Staff(StaffIdentity {
        id: "m".into(),
        role: "manager".into(),
        team: Some("alpha".into()),
        active: true,
    });
    let member = Resource::Staff(StaffIdentity {
        id: "t".into(),
        role: "team_member".into(),
        team: Some("alpha".into()),
        active: true,
    });
    let disable = Action::Admin(AdminAction::DisableUser);
    let staff_context = RequestContext { active_super_admins: Some(2), ..RequestContext::default() };
    assert!(authorizer.authorize(&manager, &disable, &member, &staff_context).allowed);

    let dealer = Principal::Customer(CustomerIdentity {
        id: "c".into(),
        base: "dealer".into(),
        tiers: vec!["premium".into()],
        team: None,
        active: true,
    });
    let analytics = Action::Permission("premium_analytics".into());
    let customer_context = RequestContext::default();
    assert!(authorizer.authorize(&dealer, &analytics, &Resource::Application, &customer_context).allowed);

    let mut group = c.benchmark_group("authorize");
    group.throughput(Throughput::Elements(1));
    group.bench_function("staff: manager disables own team member", |b| {
        b.iter(|| black_box(authorizer.authorize(black_box(&manager), &disable, &member, &staff_context)))
    });
    group.bench_function("customer: premium dealer on a premium route", |b| {
        b.iter(|| {
            black_box(authorizer.authorize(
                black_box(&dealer),
                &analytics,
                &Resource::Application,
                &customer_context,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
