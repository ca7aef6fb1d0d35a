//! decK's environment substitution: `${{ env "DECK_NAME" }}` in the raw text is replaced by the
//! variable's value before the text is parsed. As in decK, only variables whose name starts with
//! `DECK_` may be read, and a variable that is not set is an error (never an empty string).

use std::sync::OnceLock;

use regex::Regex;

use super::error::ConfigError;

/// The prefix decK requires of every variable a file may read.
pub const PREFIX: &str = "DECK_";

fn template() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$\{\{(.*?)\}\}").expect("static regex"))
}

fn env_call() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"^\s*env\s+"([^"]*)"\s*$"#).expect("static regex"))
}

/// Replaces every `${{ env "DECK_X" }}` in `text` with `env("DECK_X")`. Errors name the line
/// (`line 3`) and the variable.
pub fn substitute(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in template().captures_iter(text) {
        let (Some(whole), Some(inner)) = (found.get(0), found.get(1)) else {
            continue;
        };
        let line = format!("line {}", line_of(text, whole.start()));
        out.push_str(&text[last..whole.start()]);
        out.push_str(
            &resolve(whole.as_str(), inner.as_str(), env).map_err(|m| ConfigError::new(line, m))?,
        );
        last = whole.end();
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// The value of one `${{ … }}` template, or why it has none.
fn resolve(
    whole: &str,
    inner: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let Some(name) = env_call().captures(inner).and_then(|c| c.get(1)) else {
        return Err(format!(
            "unsupported substitution {whole} (only ${{{{ env \"DECK_NAME\" }}}} is supported)"
        ));
    };
    let name = name.as_str();
    if !name.starts_with(PREFIX) {
        return Err(format!(
            "environment variable \"{name}\" cannot be used: decK only reads variables whose name starts with {PREFIX}"
        ));
    }
    env(name).ok_or_else(|| format!("environment variable \"{name}\" is not set"))
}

/// The 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DECK_HOST" => Some("127.0.0.1".into()),
            "DECK_PORT" => Some("3000".into()),
            "HOME" => Some("/root".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_deck_variables() {
        let text = "url: http://${{ env \"DECK_HOST\" }}:${{env \"DECK_PORT\"}}/\n";
        assert_eq!(
            substitute(text, &env).unwrap(),
            "url: http://127.0.0.1:3000/\n"
        );
        assert_eq!(substitute("no templates", &env).unwrap(), "no templates");
    }

    #[test]
    fn missing_variable_is_an_error_naming_it() {
        let err = substitute("a: 1\nb: ${{ env \"DECK_MISSING\" }}\n", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: environment variable \"DECK_MISSING\" is not set"
        );
    }

    #[test]
    fn only_deck_variables_may_be_read() {
        let err = substitute("home: ${{ env \"HOME\" }}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: environment variable \"HOME\" cannot be used: decK only reads variables whose name starts with DECK_"
        );
    }

    #[test]
    fn other_templates_are_errors() {
        let err = substitute("x: ${{ lookup \"a\" }}", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: unsupported substitution ${{ lookup \"a\" }} (only ${{ env \"DECK_NAME\" }} is supported)"
        );
    }
}
