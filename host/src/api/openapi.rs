//! `/openapi.json`: the API described from its handlers and their body
//! types (utoipa), with the bearer scheme every route but `/health` needs.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{bodies, execution_routes, routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "runbox", description = "Run team runbooks inside a WebAssembly sandbox"),
    paths(
        routes::health,
        routes::ready,
        routes::metrics,
        routes::list,
        routes::show,
        routes::history,
        routes::execute,
        routes::validate,
        execution_routes::list,
        execution_routes::show,
        execution_routes::cancel,
        execution_routes::cancel_by_post,
        execution_routes::events,
    ),
    components(schemas(bodies::RunRequest, bodies::ErrorBody, bodies::Executed)),
    modifiers(&Bearer)
)]
pub(crate) struct Document;

/// The `bearer` security scheme: a JWT in `Authorization`.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document, as served.
pub(crate) async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(Document::openapi())
}
