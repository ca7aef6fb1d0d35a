//! The shared data set of the REST API and the MCP tools: ten users and twenty-seven orders, in
//! the order of `04-marketplace.md` (the order is part of every answer, so it is fixed here).

use serde_json::{json, Value};

/// `(id, fullName)` of every user.
pub const USERS: [(&str, &str); 10] = [
    ("a1b2c3d4", "Alice Johnson"),
    ("e5f6g7h8", "Bob Smith"),
    ("i9j0k1l2", "Charlie Lee"),
    ("m3n4o5p6", "Diana Evans"),
    ("q7r8s9t0", "Ethan Brown"),
    ("u1v2w3x4", "Fiona Clark"),
    ("y5z6a7b8", "George Harris"),
    ("c9d0e1f2", "Hannah Lewis"),
    ("g3h4i5j6", "Ian Walker"),
    ("k7l8m9n0", "Julia Turner"),
];

/// `(id, name, userId)` of every order.
pub const ORDERS: [(&str, &str, &str); 27] = [
    ("ord001", "Sugar (50kg)", "a1b2c3d4"),
    ("ord002", "Cleaning Supplies Pack", "a1b2c3d4"),
    ("ord003", "Canned Tomatoes (100 cans)", "a1b2c3d4"),
    ("ord004", "Flour (100kg)", "e5f6g7h8"),
    ("ord005", "Dish Soap (10 bottles)", "e5f6g7h8"),
    ("ord006", "Salt (25kg)", "e5f6g7h8"),
    ("ord007", "Olive Oil (20L)", "i9j0k1l2"),
    ("ord008", "Baking Powder (10kg)", "i9j0k1l2"),
    ("ord009", "Rice (200kg)", "m3n4o5p6"),
    ("ord010", "Vegetable Oil (15L)", "m3n4o5p6"),
    ("ord011", "Pasta (80kg)", "m3n4o5p6"),
    ("ord012", "Canned Beans (50 cans)", "m3n4o5p6"),
    ("ord013", "Toilet Paper (Case of 48)", "q7r8s9t0"),
    ("ord014", "Hand Sanitizer (20 bottles)", "q7r8s9t0"),
    ("ord015", "Laundry Detergent (10L)", "u1v2w3x4"),
    ("ord016", "Trash Bags (100 ct)", "u1v2w3x4"),
    ("ord017", "Disinfectant Spray (5 bottles)", "u1v2w3x4"),
    ("ord018", "Coffee Beans (30kg)", "k7l8m9n0"),
    ("ord019", "Tea Bags (500ct)", "k7l8m9n0"),
    ("ord020", "Condensed Milk (40 cans)", "k7l8m9n0"),
    ("ord021", "Paper Towels (24 rolls)", "g3h4i5j6"),
    ("ord022", "Broom & Mop Set", "g3h4i5j6"),
    ("ord023", "Cereal (20 boxes)", "c9d0e1f2"),
    ("ord024", "Powdered Milk (10kg)", "c9d0e1f2"),
    ("ord025", "Snacks Variety Pack", "c9d0e1f2"),
    ("ord026", "Cooking Gas Cylinder", "y5z6a7b8"),
    ("ord027", "Napkins (1000ct)", "y5z6a7b8"),
];

fn user_json((id, full_name): (&str, &str)) -> Value {
    json!({"id": id, "fullName": full_name})
}

fn order_json((id, name, user_id): (&str, &str, &str)) -> Value {
    json!({"id": id, "name": name, "userId": user_id})
}

/// All users as `[{"id","fullName"}]`.
pub fn users() -> Vec<Value> {
    USERS.into_iter().map(user_json).collect()
}

/// One user, if the id is known.
pub fn user(id: &str) -> Option<Value> {
    USERS.into_iter().find(|(uid, _)| *uid == id).map(user_json)
}

/// All orders as `[{"id","name","userId"}]`.
pub fn orders() -> Vec<Value> {
    ORDERS.into_iter().map(order_json).collect()
}

/// The orders of one user (empty for an unknown id; callers check [`user`] first).
pub fn orders_for(user_id: &str) -> Vec<Value> {
    ORDERS
        .into_iter()
        .filter(|(_, _, uid)| *uid == user_id)
        .map(order_json)
        .collect()
}

/// Orders whose name contains `query`, ignoring case.
pub fn search_orders(query: &str) -> Vec<Value> {
    let needle = query.to_lowercase();
    ORDERS
        .into_iter()
        .filter(|(_, name, _)| name.to_lowercase().contains(&needle))
        .map(order_json)
        .collect()
}
