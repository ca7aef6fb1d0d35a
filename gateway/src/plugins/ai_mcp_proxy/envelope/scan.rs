//! One pass over a JSON object that keeps only the members the gateway reads.
//!
//! serde_json's `Value` keeps the last of two equal keys while other parsers keep the first, so
//! a body with two `method` members could mean `tools/list` to the gateway and `tools/call` to
//! the upstream. Reading the object through `MapAccess` sees every key, so a repeat of a member
//! the gateway relies on is caught here rather than by searching the text. Keys are matched
//! case-insensitively, because Go's `encoding/json` (and .NET or Jackson when configured so)
//! binds `"Method"` to the `method` field: `{"method":"tools/list","METHOD":"tools/call"}` must
//! be a duplicate, and `{"Method":"tools/call"}` alone must still be read as a call. Wanted values are
//! kept as borrowed raw JSON (no copy, no number conversion, so `1e400` stays valid); everything
//! else is skipped with `IgnoredAny`, which serde_json walks without recursion or allocation.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::methods::key_like;

/// Most members any scan asks for (the top-level envelope's six).
const MAX_WANTED: usize = 6;

/// The members of one object that were asked for.
#[derive(Debug, Default)]
pub(crate) struct Scanned<'de> {
    values: [Option<&'de RawValue>; MAX_WANTED],
    /// The first wanted member that appeared more than once.
    pub duplicate: Option<&'static str>,
}

impl<'de> Scanned<'de> {
    /// The raw value of `wanted[i]`.
    pub fn get(&self, i: usize) -> Option<&'de RawValue> {
        self.values.get(i).copied().flatten()
    }
}

/// Scans the object in `json` (which must start with `{`, as every caller has checked).
pub(crate) fn scan_object_text<'de>(
    json: &'de str,
    wanted: &'static [&'static str],
) -> Result<Scanned<'de>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let scanned = de.deserialize_map(ObjectVisitor { wanted })?;
    de.end()?;
    Ok(scanned)
}

/// Scans the object the deserializer is positioned on.
pub(super) fn scan_object<'de, D: Deserializer<'de>>(
    de: D,
    wanted: &'static [&'static str],
) -> Result<Scanned<'de>, D::Error> {
    de.deserialize_map(ObjectVisitor { wanted })
}

struct ObjectVisitor {
    wanted: &'static [&'static str],
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Scanned<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        debug_assert!(self.wanted.len() <= MAX_WANTED);
        let mut out = Scanned::default();
        while let Some(slot) = map.next_key_seed(KeySeed(self.wanted))? {
            let Some(i) = slot else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let value: &'de RawValue = map.next_value()?;
            match out.values.get_mut(i) {
                Some(Some(_)) => {
                    out.duplicate.get_or_insert(self.wanted[i]);
                }
                Some(empty) => *empty = Some(value),
                None => {}
            }
        }
        Ok(out)
    }
}

/// Deserializes a key to its position in the wanted list, without allocating (escaped keys
/// arrive decoded through `visit_str`, so `"\u006dethod"` is `method`, as for any parser).
struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|w| key_like(key, w)))
    }
}
