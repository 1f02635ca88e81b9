//! The REST control API (VoIPBIN-shaped, under `/v1.0`).

use crate::campaign::Control;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// What every request handler shares.
pub struct ApiState {
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// The dialing engine.
    pub control: Arc<dyn Control>,
    /// Token → customer.
    pub tokens: HashMap<String, Uuid>,
    /// Region for national numbers.
    pub default_region: String,
    /// Configured trunk names.
    pub trunks: Vec<String>,
}

/// Serves the API on an already-bound listener.
pub async fn serve(
    listener: std::net::TcpListener,
    state: ApiState,
) -> std::io::Result<actix_web::dev::Server> {
    let state = actix_web::web::Data::new(state);
    Ok(
        actix_web::HttpServer::new(move || actix_web::App::new().app_data(state.clone()))
            .workers(2)
            .listen(listener)?
            .run(),
    )
}
