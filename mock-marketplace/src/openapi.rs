//! The OpenAPI 3.0 document served at `GET /openapi`, describing the REST endpoints of
//! [`crate::rest`] under the title "Sample Users API" (what conversion modes turn into tools).

use serde_json::{json, Value};

/// The whole document.
pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Sample Users API",
            "version": "1.0.0",
            "description": "A small marketplace with sample users and their orders."
        },
        "paths": {
            "/users": {"get": list_op("listUsers", "List all users", "User")},
            "/users/{id}": {"get": get_user_op()},
            "/orders": {"get": list_op("listOrders", "List all orders", "Order")},
            "/users/{userId}/orders": {"get": user_orders_op()},
        },
        "components": {"schemas": schemas()}
    })
}

fn list_op(operation_id: &str, summary: &str, schema: &str) -> Value {
    json!({
        "operationId": operation_id,
        "summary": summary,
        "responses": {"200": array_response(schema)}
    })
}

fn get_user_op() -> Value {
    json!({
        "operationId": "getUser",
        "summary": "Get a user by id",
        "parameters": [path_param("id", "The user id")],
        "responses": {
            "200": {
                "description": "The user",
                "content": {"application/json": {"schema": schema_ref("User")}}
            },
            "404": not_found_response()
        }
    })
}

fn user_orders_op() -> Value {
    json!({
        "operationId": "listUserOrders",
        "summary": "List the orders of a user",
        "parameters": [path_param("userId", "The user id")],
        "responses": {"200": array_response("Order"), "404": not_found_response()}
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": {"type": "string"}
    })
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn array_response(item: &str) -> Value {
    json!({
        "description": "OK",
        "content": {"application/json": {"schema": {"type": "array", "items": schema_ref(item)}}}
    })
}

fn not_found_response() -> Value {
    json!({
        "description": "User not found",
        "content": {"application/json": {"schema": schema_ref("Error")}}
    })
}

fn schemas() -> Value {
    json!({
        "User": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "fullName": {"type": "string"}},
            "required": ["id", "fullName"]
        },
        "Order": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "userId": {"type": "string"}
            },
            "required": ["id", "name", "userId"]
        },
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}},
            "required": ["error"]
        }
    })
}
