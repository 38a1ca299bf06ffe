//! Which protected route a request hits: the one rule the API Gateway Lambda authorizer and gateway mode
//! share, so a path is judged by the same route wherever cognigate stands in front of the application.
//!
//! Patterns come from `[[routes]]` (`/literal/{name}/**`): a literal segment matches itself, `{name}` any one
//! segment, and a final `**` the rest of the path (possibly nothing). When several routes match, the most
//! specific wins: patterns are compared segment by segment, a literal beating a parameter beating `**`, a
//! longer pattern beating its own prefix; on equal patterns an exact method beats `*`, and then the route
//! declared first wins. A request path that is not in normal form (no leading `/`, an empty, `.` or `..`
//! segment) matches nothing, so a caller that denies unmatched requests can never be walked around a route
//! by spelling its path differently.

use cognigate_config::{RouteConfig, check_path_pattern};

/// The method of a route that accepts any method.
pub const ANY_METHOD: &str = "*";

/// One segment of a compiled pattern, ordered from least to most specific.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: the rest of the path.
    Rest,
    /// `{name}`: any one segment.
    Param,
    /// A segment that must be equal.
    Literal(String),
}

impl Segment {
    /// How specific the segment is: higher wins.
    fn rank(&self) -> u8 {
        match self {
            Self::Rest => 0,
            Self::Param => 1,
            Self::Literal(_) => 2,
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledRoute {
    route: RouteConfig,
    segments: Vec<Segment>,
    any_method: bool,
}

impl CompiledRoute {
    fn compile(route: &RouteConfig) -> Option<Self> {
        check_path_pattern(&route.path).ok()?;
        let segments = route
            .path
            .trim_start_matches('/')
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| match segment {
                "**" => Segment::Rest,
                _ if segment.starts_with('{') => Segment::Param,
                literal => Segment::Literal(literal.to_owned()),
            })
            .collect();
        Some(Self { route: route.clone(), segments, any_method: route.method == ANY_METHOD })
    }

    fn matches_method(&self, method: &str) -> bool {
        self.any_method || self.route.method.eq_ignore_ascii_case(method)
    }

    fn matches_path(&self, path: &[&str]) -> bool {
        let mut remaining = path.iter();
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Param => {
                    if remaining.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if remaining.next() != Some(&literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        remaining.next().is_none()
    }

    /// The specificity key: segment ranks (a longer pattern wins over its prefix), then an exact method.
    fn specificity(&self) -> (Vec<u8>, bool) {
        (self.segments.iter().map(Segment::rank).collect(), !self.any_method)
    }
}

/// The protected routes, compiled once; [`RouteTable::find`] answers which route a request hits.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<CompiledRoute>,
}

impl From<&[RouteConfig]> for RouteTable {
    /// Compiles the routes. A route whose pattern is malformed never matches (configuration validation
    /// reports it before anything runs).
    fn from(routes: &[RouteConfig]) -> Self {
        Self { routes: routes.iter().filter_map(CompiledRoute::compile).collect() }
    }
}

impl RouteTable {
    /// The route a `method` request to `path` hits, or `None` when no route covers it (or the path is not in
    /// normal form). `path` is the path only: no query string, no scheme or host.
    pub fn find(&self, method: &str, path: &str) -> Option<&RouteConfig> {
        let segments = normal_segments(path)?;
        let mut best: Option<&CompiledRoute> = None;
        for candidate in &self.routes {
            if !candidate.matches_method(method) || !candidate.matches_path(&segments) {
                continue;
            }
            // Strictly greater: on a tie the route declared first stays.
            if best.is_none_or(|current| candidate.specificity() > current.specificity()) {
                best = Some(candidate);
            }
        }
        best.map(|compiled| &compiled.route)
    }

    /// How many routes can match (the malformed ones left out).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no route can match.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// The segments of a request path in normal form, or `None`: it must start with `/`, and no segment may be
/// empty, `.` or `..` (`/` alone is the root, with no segments).
fn normal_segments(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|segment| segment.is_empty() || *segment == "." || *segment == "..") {
        return None;
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use cognigate_config::PoolKind;

    use super::*;

    fn route(method: &str, path: &str, permission: &str) -> RouteConfig {
        RouteConfig {
            method: method.to_owned(),
            path: path.to_owned(),
            pool: if path.contains("staff") { PoolKind::Staff } else { PoolKind::Customer },
            permission: permission.to_owned(),
        }
    }

    fn table(routes: &[RouteConfig]) -> RouteTable {
        RouteTable::from(routes)
    }

    fn permission<'a>(table: &'a RouteTable, method: &str, path: &str) -> Option<&'a str> {
        table.find(method, path).map(|route| route.permission.as_str())
    }

    #[test]
    fn literal_segments_match_exactly() {
        let table = table(&[route("GET", "/api/me", "profile")]);
        assert_eq!(permission(&table, "GET", "/api/me"), Some("profile"));
        for path in ["/api/me/", "/api/me/x", "/api", "/api/mee", "/API/me", "api/me", "", "/"] {
            assert_eq!(permission(&table, "GET", path), None, "{path:?}");
        }
    }

    #[test]
    fn a_parameter_is_exactly_one_segment() {
        let table = table(&[route("GET", "/api/listings/{id}/analytics", "analytics")]);
        assert_eq!(permission(&table, "GET", "/api/listings/42/analytics"), Some("analytics"));
        for path in ["/api/listings/analytics", "/api/listings/4/2/analytics", "/api/listings//analytics"] {
            assert_eq!(permission(&table, "GET", path), None, "{path:?}");
        }
    }

    #[test]
    fn a_final_double_star_is_the_rest_of_the_path() {
        let table = table(&[route("GET", "/api/staff/moderation/**", "moderation")]);
        for path in ["/api/staff/moderation", "/api/staff/moderation/queue", "/api/staff/moderation/a/b/c"] {
            assert_eq!(permission(&table, "GET", path), Some("moderation"), "{path:?}");
        }
        assert_eq!(permission(&table, "GET", "/api/staff/moderations"), None);
        assert_eq!(permission(&table, "GET", "/api/staff"), None);
    }

    #[test]
    fn paths_not_in_normal_form_match_nothing() {
        let table = table(&[route("*", "/api/staff/settings/**", "system"), route("GET", "/**", "root")]);
        for path in [
            "/api/staff/settings/../moderation",
            "/api/staff/settings/./x",
            "/api/staff//settings/x",
            "/api/staff/settings/x/",
            "//api",
            "relative/path",
        ] {
            assert_eq!(permission(&table, "GET", path), None, "{path:?}");
        }
        assert_eq!(permission(&table, "GET", "/"), Some("root"));
    }

    #[test]
    fn the_most_specific_pattern_wins_whatever_the_order() {
        let routes = [
            route("POST", "/api/listings/{id}", "by_id"),
            route("POST", "/api/listings/bulk", "bulk"),
            route("GET", "/api/**", "anything"),
            route("GET", "/api/{section}/**", "section"),
            route("GET", "/api/staff/**", "staff"),
        ];
        for order in [routes.to_vec(), routes.iter().rev().cloned().collect()] {
            let table = table(&order);
            assert_eq!(permission(&table, "POST", "/api/listings/bulk"), Some("bulk"));
            assert_eq!(permission(&table, "POST", "/api/listings/7"), Some("by_id"));
            assert_eq!(permission(&table, "GET", "/api/staff/x"), Some("staff"));
            assert_eq!(permission(&table, "GET", "/api/other/x"), Some("section"));
            assert_eq!(permission(&table, "GET", "/api"), Some("anything"));
        }
    }

    #[test]
    fn an_exact_method_beats_any_method_and_methods_must_match() {
        let routes = [
            route("*", "/api/staff/settings/**", "any"),
            route("DELETE", "/api/staff/settings/**", "delete"),
        ];
        for order in [routes.to_vec(), routes.iter().rev().cloned().collect()] {
            let table = table(&order);
            assert_eq!(permission(&table, "DELETE", "/api/staff/settings/x"), Some("delete"));
            assert_eq!(permission(&table, "delete", "/api/staff/settings/x"), Some("delete"));
            assert_eq!(permission(&table, "PATCH", "/api/staff/settings/x"), Some("any"));
        }
        let get_only = table(&[route("GET", "/api/me", "profile")]);
        assert_eq!(permission(&get_only, "POST", "/api/me"), None);
    }

    #[test]
    fn on_equal_patterns_the_first_declared_route_wins() {
        let table = table(&[route("GET", "/a/{x}", "first"), route("GET", "/a/{y}", "second")]);
        assert_eq!(permission(&table, "GET", "/a/1"), Some("first"));
    }

    #[test]
    fn malformed_patterns_never_match() {
        let table = table(&[route("GET", "/a/**/b", "bad"), route("GET", "no-slash", "bad")]);
        assert!(table.is_empty());
        assert_eq!(permission(&table, "GET", "/a/x/b"), None);
    }
}
