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
//! A member whose own members are wanted too can be read in place by a seed instead
//! (`scan_object_text_with`), which saves walking its text a second time.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::methods::key_position;
use super::quick;

/// Most members any scan asks for (the top-level envelope's six).
const MAX_WANTED: usize = 6;

/// The members of one object that were asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scanned<'de> {
    /// Each wanted member's first value, as raw JSON text.
    values: [Option<&'de str>; MAX_WANTED],
    /// The first wanted member that appeared more than once.
    pub duplicate: Option<&'static str>,
}

impl<'de> Scanned<'de> {
    /// The raw JSON text of `wanted[i]`.
    pub fn get(&self, i: usize) -> Option<&'de str> {
        self.values.get(i).copied().flatten()
    }

    /// Keeps `value` as the first value of `wanted[i]`, or notes a repeat. `taken`: that
    /// member's first value went elsewhere (to a seed), so this one is a repeat too.
    pub(super) fn keep(
        &mut self,
        wanted: &'static [&'static str],
        i: usize,
        value: &'de str,
        taken: bool,
    ) {
        match self.values.get_mut(i) {
            Some(kept) if kept.is_some() || taken => {
                self.duplicate.get_or_insert(wanted[i]);
            }
            Some(empty) => *empty = Some(value),
            None => {}
        }
    }
}

/// Scans the object in `json` (which must start with `{`, as every caller has checked).
pub(crate) fn scan_object_text<'de>(
    json: &'de str,
    wanted: &'static [&'static str],
) -> Result<Scanned<'de>, serde_json::Error> {
    match quick::scan(json, wanted) {
        Some(scanned) => Ok(scanned),
        None => scan_object_serde(json, wanted),
    }
}

/// [`scan_object_text`] through serde_json alone: what decides whenever [`quick::scan`] cannot.
pub(super) fn scan_object_serde<'de>(
    json: &'de str,
    wanted: &'static [&'static str],
) -> Result<Scanned<'de>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let (scanned, _) = de.deserialize_map(ObjectVisitor::<PhantomData<IgnoredAny>> {
        wanted,
        nested: None,
    })?;
    de.end()?;
    Ok(scanned)
}

/// Scans the object in `json` as [`scan_object_text`] does, but reads the first value of
/// `wanted[slot]` in place with `seed` instead of keeping its raw text (which would take a
/// second pass to read it): `get(slot)` is then `None` and the seed's value is returned.
///
/// `Err(None)`: the seed failed (the value was not what it reads, say not an object), so the
/// caller must scan again with [`scan_object_text`], which decides. `Err(Some(e))`: the JSON
/// failed outside that value, with the very error [`scan_object_text`] gives, since the seed
/// consumed exactly the bytes a raw value would.
pub(crate) fn scan_object_text_with<'de, S: DeserializeSeed<'de>>(
    json: &'de str,
    wanted: &'static [&'static str],
    slot: usize,
    seed: S,
) -> Result<(Scanned<'de>, Option<S::Value>), Option<serde_json::Error>> {
    let failed = Cell::new(false);
    let nested = Some((
        slot,
        Flagged {
            seed,
            failed: &failed,
        },
    ));
    let mut de = serde_json::Deserializer::from_str(json);
    let scanned = de
        .deserialize_map(ObjectVisitor { wanted, nested })
        .and_then(|scanned| de.end().map(|()| scanned));
    scanned.map_err(|e| (!failed.get()).then_some(e))
}

/// Scans the object the deserializer is positioned on, reading the first value of
/// `wanted[slot]` with `seed` (see [`scan_object_text_with`]).
pub(super) fn scan_object_with<'de, D: Deserializer<'de>, S: DeserializeSeed<'de>>(
    de: D,
    wanted: &'static [&'static str],
    slot: usize,
    seed: S,
) -> Result<(Scanned<'de>, Option<S::Value>), D::Error> {
    de.deserialize_map(ObjectVisitor {
        wanted,
        nested: Some((slot, seed)),
    })
}

/// Scans the object the deserializer is positioned on.
pub(super) fn scan_object<'de, D: Deserializer<'de>>(
    de: D,
    wanted: &'static [&'static str],
) -> Result<Scanned<'de>, D::Error> {
    let visitor = ObjectVisitor::<PhantomData<IgnoredAny>> {
        wanted,
        nested: None,
    };
    de.deserialize_map(visitor).map(|(scanned, _)| scanned)
}

/// A seed that notes its own failure, which the deserializer's error cannot tell apart.
struct Flagged<'a, S> {
    seed: S,
    failed: &'a Cell<bool>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Flagged<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let value = self.seed.deserialize(de);
        self.failed.set(value.is_err());
        value
    }
}

struct ObjectVisitor<S> {
    wanted: &'static [&'static str],
    /// A wanted member whose first value `S` reads in place.
    nested: Option<(usize, S)>,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for ObjectVisitor<S> {
    type Value = (Scanned<'de>, Option<S::Value>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        debug_assert!(self.wanted.len() <= MAX_WANTED);
        let nested_slot = self.nested.as_ref().map(|(slot, _)| *slot);
        let mut out = Scanned::default();
        let mut inner = None;
        while let Some(slot) = map.next_key_seed(KeySeed(self.wanted))? {
            let Some(i) = slot else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if let Some((_, seed)) = self.nested.take_if(|(slot, _)| *slot == i) {
                inner = Some(map.next_value_seed(seed)?);
                continue;
            }
            let value: &'de RawValue = map.next_value()?;
            // The nested member's first value went to the seed, not to `values`.
            out.keep(self.wanted, i, value.get(), Some(i) == nested_slot);
        }
        Ok((out, inner))
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
        Ok(key_position(key, self.0))
    }
}
