//! The answers every route of a kind can give whatever its handler does: the ones the framework
//! and the middleware give (a malformed query string or a NUL in it, a body that isn't JSON or is
//! too large, the database gate, the session extractors, CORS, the account page's CSRF guard).
//! Each is one `ErrorBody` response in `components.responses`, referenced from every operation it
//! applies to, so a new route is documented with them without repeating them in its annotation.
//!
//! A handler that says more about a status (which fields, which codes) keeps its own entry for
//! it; these fill in only what it leaves out. (405 is per resource, not per operation: a method
//! a path doesn't list answers 405 with `Allow`, said once in the document's description.)

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// What decides which shared answers an operation gets.
pub struct OpFacts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// A JSON request body (read by `ApiJson`, which answers 413 and 415).
    pub json_body: bool,
    /// A security requirement naming a scheme (an optional session counts: a bad one is 401).
    pub authenticated: bool,
    /// A keyset-paged list (it takes `limit` and `cursor`: `http::paging::PageParams`).
    pub paged: bool,
    /// It answers a `text/event-stream` (held by `http::StreamSlot`, which counts streams).
    pub event_stream: bool,
}

impl OpFacts<'_> {
    fn has_path_params(&self) -> bool {
        self.path.contains('{')
    }

    /// Behind `require_database` (see `api::routes`): 503 until migrations ran, and whenever
    /// the pool can't reach Postgres.
    fn database_backed(&self) -> bool {
        ["/api/v1/", "/api/mod/v1/", "/account/api/", "/auth/"]
            .iter()
            .any(|p| self.path.starts_with(p))
    }
}

/// One shared answer: its status, its name under `components.responses`, what it says, and the
/// operations it applies to.
pub struct Shared {
    pub status: &'static str,
    pub name: &'static str,
    description: &'static str,
    pub applies: fn(&OpFacts) -> bool,
}

pub const SHARED: &[Shared] = &[
    // Before `InvalidRequest`: a paged list's 400 names its paging parameters.
    Shared {
        status: "400",
        name: "BadPage",
        description: "`validation_failed`: a bad `limit` or `cursor`.",
        applies: |op| op.paged,
    },
    Shared {
        status: "400",
        name: "InvalidRequest",
        description: "`validation_failed` (details: field -> reason): a malformed query \
                      string, or a NUL (`%00`) anywhere in it, is refused for `query` before \
                      the route runs; a route with a JSON body also answers `invalid_json` \
                      for a malformed or empty body and names each bad field.",
        applies: |_| true,
    },
    Shared {
        status: "401",
        name: "Unauthenticated",
        description: "`unauthenticated`: no, a malformed, an unknown, an expired or a revoked \
                      session or token (where a session is optional, only a bad one sent).",
        applies: |op| op.authenticated,
    },
    Shared {
        status: "403",
        name: "CrossSiteRequest",
        description: "`cross_site_request`: not from the account page (no \
                      `X-Colloquy-Account` header, or another `Origin` or `Sec-Fetch-Site`).",
        applies: |op| op.path.starts_with("/account/api/"),
    },
    Shared {
        status: "403",
        name: "OriginNotAllowed",
        description: "`origin_not_allowed` (CORS): a page of an origin the site didn't \
                      register sent a request that changes something.",
        applies: |op| op.path.starts_with("/api/v1/") && op.method != "get",
    },
    Shared {
        status: "404",
        name: "NotFound",
        description: "`not_found`: nothing here has this path's name or id (a malformed one \
                      included), or nothing the caller may see: a site a moderator holds no \
                      role on answers as one that doesn't exist.",
        applies: |op| op.has_path_params(),
    },
    Shared {
        status: "413",
        name: "PayloadTooLarge",
        description: "`payload_too_large`: the body is over the JSON size limit \
                      (`limits.json_max_bytes`; details: `limit_bytes`).",
        applies: |op| op.json_body,
    },
    Shared {
        status: "415",
        name: "UnsupportedMediaType",
        description: "`unsupported_media_type`: no body, or one not sent as \
                      `Content-Type: application/json`.",
        applies: |op| op.json_body,
    },
    Shared {
        status: "429",
        name: "TooManyStreams",
        description: "`rate_limited`: the client's network (its IP; IPv6: its /64) holds \
                      `streams.per_ip` streams already (with `Retry-After`).",
        applies: |op| op.event_stream,
    },
    // Before `Unavailable`: a stream is also refused when the node is full.
    Shared {
        status: "503",
        name: "StreamsUnavailable",
        description: "`unavailable`: the database is unavailable, or this node holds as many \
                      streams as it may (with `Retry-After`).",
        applies: |op| op.event_stream,
    },
    Shared {
        status: "503",
        name: "Unavailable",
        description: "`unavailable`: the database is down or not migrated yet; `Retry-After` \
                      says when to try again.",
        applies: |op| op.database_backed(),
    },
];

/// Adds the shared answers to the components and to every operation of `doc` they apply to.
/// Runs on the assembled document (after the parts are merged), so it reaches every operation.
pub fn add_to(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for shared in SHARED {
        components
            .responses
            .insert(shared.name.to_owned(), RefOr::T(error(shared.description)));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let facts = OpFacts {
                method,
                path,
                json_body: takes_json(op),
                authenticated: authenticated(op),
                paged: paged(op),
                event_stream: event_stream(op),
            };
            for shared in SHARED.iter().filter(|s| (s.applies)(&facts)) {
                // The handler's own entry for this status says more; the first shared one
                // that applies wins over later ones of the same status.
                op.responses
                    .responses
                    .entry(shared.status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared.name)));
            }
        }
    }
}

/// An answer with the contract's error body.
pub fn error(description: &str) -> Response {
    let mut response = Response::new(description);
    let schema = RefOr::Ref(Ref::from_schema_name("ErrorBody"));
    response.content.insert(
        "application/json".to_owned(),
        RefOr::T(Content::new(Some(schema))),
    );
    response
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| Some((m, op?)))
}

fn takes_json(op: &Operation) -> bool {
    match &op.request_body {
        Some(RefOr::T(body)) => body.content.contains_key("application/json"),
        // Every body this document references by name is JSON.
        Some(RefOr::Ref(_)) => true,
        None => false,
    }
}

fn paged(op: &Operation) -> bool {
    op.parameters.iter().flatten().any(|p| {
        matches!(p, RefOr::T(p)
            if p.name == "limit" && matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    })
}

fn event_stream(op: &Operation) -> bool {
    match op.responses.responses.get("200") {
        Some(RefOr::T(answer)) => answer.content.contains_key("text/event-stream"),
        _ => false,
    }
}

fn authenticated(op: &Operation) -> bool {
    // `SecurityRequirement` keeps its scheme names private; its JSON form is `{name: scopes}`.
    let Ok(serde_json::Value::Array(reqs)) = serde_json::to_value(&op.security) else {
        return false;
    };
    reqs.iter()
        .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
}
