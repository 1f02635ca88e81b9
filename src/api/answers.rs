//! The error answers the OpenAPI document gives the operations, named once: each type lists
//! one or more statuses, each answered with an [`ErrorBody`](super::error::ErrorBody), and a
//! handler's `responses(...)` names the sets it can answer beside its own 200.

use std::collections::BTreeMap;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

/// A body that is not valid, or a query parameter that is not.
const INVALID: (&str, &str) = ("400", "A field is invalid; the message names it");
/// No token, or one the node does not know.
const UNAUTHORIZED: (&str, &str) = ("401", "No token, or an unknown one");
/// The id names nothing the token's customer owns.
const NOT_FOUND: (&str, &str) = ("404", "No such resource for this customer");
/// The resource's state (or another resource using it) forbids the change.
const CONFLICT: (&str, &str) = ("409", "Not allowed in the current state");

/// The responses for `statuses`, each an error answer with its description.
fn errors(statuses: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", body)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// 400, 401 and 404: what an operation on a customer's resources can answer.
pub struct ResourceErrors;

impl IntoResponses for ResourceErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[INVALID, UNAUTHORIZED, NOT_FOUND])
    }
}

/// 409: the resource's state forbids the change.
pub struct Conflict;

impl IntoResponses for Conflict {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[CONFLICT])
    }
}

/// 400 and 401: an operation on no particular resource.
pub struct QueryErrors;

impl IntoResponses for QueryErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[INVALID, UNAUTHORIZED])
    }
}

/// 401 and 404: a read of one resource that takes no parameters to get wrong.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[UNAUTHORIZED, NOT_FOUND])
    }
}
