//! The OpenAPI 3.1 description of `/api/v1/*`, served at
//! `/api/v1/openapi.json`. Its schemas are generated from the types the
//! handlers serialize (`CheckView`, `Summary`), so the description cannot
//! drift from the answers; errors use Prometheus' envelope.

use serde_json::{json, Value};

use crate::docs::schema_of;
use crate::report::{CheckView, Summary};

/// Prometheus' HTTP API error envelope.
fn error_envelope() -> Value {
    json!({
        "type": "object",
        "required": ["status", "errorType", "error"],
        "properties": {
            "status": { "const": "error" },
            "errorType": { "type": "string", "description": "`not_found`, `bad_data` ..." },
            "error": { "type": "string" },
        },
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The document, for an exporter serving under `route_prefix` (`/prodready`;
/// empty for none): its `servers` entry makes the paths resolve there.
pub fn document(route_prefix: &str) -> Value {
    let checks = json!({
        "type": "object",
        "required": ["status", "data"],
        "properties": {
            "status": { "const": "success" },
            "data": {
                "type": "object",
                "required": ["checks", "summary", "ready", "config_reload_successful"],
                "properties": {
                    "checks": { "type": "array", "items": schema_of::<CheckView>() },
                    "summary": schema_of::<Summary>(),
                    "ready": { "type": "boolean", "description": "Every check has been evaluated once." },
                    "config_reload_successful": { "type": "boolean" },
                },
            },
        },
    });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "prodready-exporter API",
            "version": crate::build_info::VERSION,
            "description": "The production-readiness checks of this exporter: each check's state, message, evidence and history (the same view as `check --format json`). Read-only; the metrics are at the telemetry path, the status page at `/`.",
        },
        "paths": {
            "/api/v1/checks": {
                "get": {
                    "operationId": "listChecks",
                    "summary": "Every configured check with its last result, or one check",
                    "parameters": [{
                        "name": "check",
                        "in": "query",
                        "required": false,
                        "description": "Only the check of this name (`<check>:<target>` for a check over several targets).",
                        "schema": { "type": "string" },
                    }],
                    "responses": {
                        "200": json_response("The checks, a summary of their states, readiness.", checks),
                        "400": json_response("The query cannot be read.", error_envelope()),
                        "404": json_response("No configured check by that name.", error_envelope()),
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "responses": {
                        "200": json_response("The OpenAPI 3.1 document.", json!({ "type": "object" })),
                    },
                },
            },
        },
    });
    if !route_prefix.is_empty() {
        doc["servers"] =
            json!([{ "url": route_prefix, "description": "the exporter's --web.route-prefix" }]);
    }
    doc
}
