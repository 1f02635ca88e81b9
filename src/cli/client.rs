//! A small client of ringmaster's REST API: requests with the token, JSON answers, and the
//! API's `{"message": ...}` turned into an error that names the status.

use super::CliError;
use bytes::Bytes;
use futures::Stream;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// Speaks to one API with one token.
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port` (no `/v1.0`).
    origin: String,
    token: String,
}

impl Client {
    /// A client of the API at `origin` acting with `token`.
    pub fn new(origin: &str, token: &str) -> Result<Client, CliError> {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(CliError::Http)?;
        Ok(Client {
            http,
            origin: origin.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/v1.0{path}", self.origin))
            .bearer_auth(&self.token)
    }

    /// `GET` a JSON resource.
    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        json(self.request(Method::GET, path).send().await).await
    }

    /// `POST` a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        json(self.request(Method::POST, path).json(body).send().await).await
    }

    /// `PUT` a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        json(self.request(Method::PUT, path).json(body).send().await).await
    }

    /// `POST` a body streamed from `body`, with its type and length.
    pub async fn post_stream<S>(
        &self,
        path: &str,
        content_type: &str,
        length: u64,
        body: S,
    ) -> Result<Value, CliError>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static,
    {
        let request = self
            .request(Method::POST, path)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(reqwest::Body::wrap_stream(body));
        json(request.send().await).await
    }

    /// `GET` a resource that is not JSON; the answer, once known to be a success.
    pub async fn get_raw(&self, path: &str) -> Result<Response, CliError> {
        checked(self.request(Method::GET, path).send().await).await
    }

    /// `GET /events?<query>` as Server-Sent Events, resumed after `last_event_id` when given:
    /// the open stream, or the API's refusal as an error.
    pub async fn events(
        &self,
        query: &str,
        last_event_id: Option<&str>,
    ) -> Result<Response, CliError> {
        let mut request = self
            .request(Method::GET, &format!("/events?{query}"))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        checked(request.send().await).await
    }

    /// Every item of a list, following `next_page_token`, at most `limit`.
    pub async fn list(&self, path: &str, limit: usize) -> Result<Vec<Value>, CliError> {
        let mut items = Vec::new();
        let mut token = String::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let page = self
                .get(&format!("{path}{sep}page_size=100&page_token={token}"))
                .await?;
            let result = page["result"].as_array().cloned().unwrap_or_default();
            items.extend(result.into_iter().take(limit.saturating_sub(items.len())));
            token = page["next_page_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if token.is_empty() || items.len() >= limit {
                return Ok(items);
            }
        }
    }
}

/// The answer when it is a success, else the API's message as an error.
async fn checked(sent: reqwest::Result<Response>) -> Result<Response, CliError> {
    let response = sent.map_err(CliError::Http)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or(text);
    Err(CliError::Api {
        status: status.as_u16(),
        message,
    })
}

async fn json(sent: reqwest::Result<Response>) -> Result<Value, CliError> {
    checked(sent)
        .await?
        .json::<Value>()
        .await
        .map_err(CliError::Http)
}
