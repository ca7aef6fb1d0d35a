use super::*;

#[test]
fn tools_call_spellings() {
    for m in [
        "tools/call",
        "TOOLS/CALL",
        "Tools/Call",
        " tools/call ",
        "tools/call\0",
        "\ttools/call\r\n",
        "\u{a0}tools/call\u{feff}",
        "toolſ/call",
        "tools/caLL",
    ] {
        assert!(is_tools_call_like(m), "{m:?}");
    }
    for m in [
        "tools/calls",
        "tools/ call",
        "tools\\call",
        "tool/call",
        "tools/cal",
        "",
        "tools/list",
    ] {
        assert!(!is_tools_call_like(m), "{m:?}");
    }
}

#[test]
fn tools_list_spellings() {
    for m in [
        "tools/list",
        "TOOLS/LIST",
        " tools/list",
        "tools/lıst",
        "tools/liﬆ",
        "tools/liﬅ",
        "\u{212a}",
    ] {
        assert_eq!(is_tools_list_like(m), m != "\u{212a}", "{m:?}");
    }
    assert!(method_like("\u{212a}", "k"));
    assert!(!is_tools_list_like("tools/call"));
}

#[test]
fn canonical_names() {
    assert_eq!(canonical_method("tools/call"), Some("tools/call"));
    assert_eq!(canonical_method(" TOOLS/CALL"), Some("tools/call"));
    assert_eq!(
        canonical_method("logging/setlevel"),
        Some("logging/setLevel")
    );
    assert_eq!(canonical_method("server/discover"), Some("server/discover"));
    assert_eq!(
        canonical_method("notifications/tools/list_changed"),
        Some("notifications/tools/list_changed")
    );
    assert_eq!(
        canonical_method("notifications/custom/thing"),
        Some(OTHER_NOTIFICATION)
    );
    assert_eq!(
        canonical_method("NOTIFICATIONS/x"),
        Some(OTHER_NOTIFICATION)
    );
    assert_eq!(canonical_method("custom/method"), None);
    assert_eq!(canonical_method(""), None);
}
