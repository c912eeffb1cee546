//! Reading back JSON that holds NaN: `serde_json` writes a non-finite `f64` as `null` (JSON has no
//! NaN), and refuses `null` for an `f64` when reading. A diverged run's summary, or a statistic
//! over an empty set, holds NaN, so the store reads through [`from_str`], which turns `null` into
//! NaN wherever the target is a float and keeps `null` meaning `None` for options (so an
//! `Option<f64>` holding NaN reads back as `None`).
//!
//! [`from_str_keeping_unknown`] also reads files written by another version of sgdnoise: keys
//! that a struct of this version does not declare are set aside (with their path, as
//! `config.new_key`) instead of failing a struct that denies unknown fields, and returned beside
//! the value, so that nothing written by a newer version is lost on the way through.

use serde::de::{
    self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Parses `text` as `T`, reading `null` as NaN where `T` has a float.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let value: Value = serde_json::from_str(text)?;
    T::deserialize(NanDe::new(value, None, String::new()))
}

/// Keys found in a file that the structs of this version do not declare, by dotted path.
pub type Unknown = BTreeMap<String, Value>;

/// As [`from_str`], but keys that a struct of `T` does not declare are taken out before that
/// struct reads its fields and returned by their path (`key`, `config.key`, `layers[0].key`).
pub fn from_str_keeping_unknown<T: DeserializeOwned>(
    text: &str,
) -> serde_json::Result<(T, Unknown)> {
    let value: Value = serde_json::from_str(text)?;
    let sink = RefCell::new(Unknown::new());
    let t = T::deserialize(NanDe::new(value, Some(&sink), String::new()))?;
    Ok((t, sink.into_inner()))
}

struct NanDe<'s> {
    value: Value,
    /// Where unknown keys go (lenient reading), if anywhere.
    sink: Option<&'s RefCell<Unknown>>,
    /// The path of `value` in the document (kept only when reading leniently).
    path: String,
}

impl<'s> NanDe<'s> {
    fn new(value: Value, sink: Option<&'s RefCell<Unknown>>, path: String) -> Self {
        NanDe { value, sink, path }
    }
}

struct Seq<'s> {
    items: std::iter::Enumerate<std::vec::IntoIter<Value>>,
    sink: Option<&'s RefCell<Unknown>>,
    path: String,
}
impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = serde_json::Error;
    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        let Some((i, v)) = self.items.next() else {
            return Ok(None);
        };
        let path = match self.sink {
            Some(_) => format!("{}[{i}]", self.path),
            None => String::new(),
        };
        seed.deserialize(NanDe::new(v, self.sink, path)).map(Some)
    }
}

struct Map<'s> {
    entries: serde_json::map::IntoIter,
    value: Option<(String, Value)>,
    sink: Option<&'s RefCell<Unknown>>,
    path: String,
}
impl<'de> MapAccess<'de> for Map<'_> {
    type Error = serde_json::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((k, v)) => {
                // The key is kept for the path of its value only when reading leniently.
                let kept = match self.sink {
                    Some(_) => k.clone(),
                    None => String::new(),
                };
                self.value = Some((kept, v));
                let key: de::value::StringDeserializer<serde_json::Error> = k.into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let (k, v) = self.value.take().unwrap_or((String::new(), Value::Null));
        let path = match self.sink {
            Some(_) if self.path.is_empty() => k,
            Some(_) => format!("{}.{k}", self.path),
            None => String::new(),
        };
        seed.deserialize(NanDe::new(v, self.sink, path))
    }
}

impl<'s> NanDe<'s> {
    fn map(self, map: serde_json::Map<String, Value>) -> Map<'s> {
        Map {
            entries: map.into_iter(),
            value: None,
            sink: self.sink,
            path: self.path,
        }
    }
}

impl<'de> Deserializer<'de> for NanDe<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.into_iter().enumerate(),
                sink: self.sink,
                path: self.path,
            }),
            Value::Object(map) => {
                let m = NanDe::new(Value::Null, self.sink, self.path).map(map);
                visitor.visit_map(m)
            }
            other => other.deserialize_any(visitor),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match (self.value, self.sink) {
            (Value::Object(mut map), Some(sink)) => {
                let unknown: Vec<String> = map
                    .keys()
                    .filter(|k| !fields.contains(&k.as_str()))
                    .cloned()
                    .collect();
                for k in unknown {
                    if let Some(v) = map.remove(&k) {
                        let path = if self.path.is_empty() {
                            k
                        } else {
                            format!("{}.{k}", self.path)
                        };
                        sink.borrow_mut().insert(path, v);
                    }
                }
                let m = NanDe::new(Value::Null, Some(sink), self.path).map(map);
                visitor.visit_map(m)
            }
            (value, sink) => NanDe::new(value, sink, self.path).deserialize_any(visitor),
        }
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_f64(f64::NAN),
            other => other.deserialize_f64(visitor),
        }
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_f32(f32::NAN),
            other => other.deserialize_f32(visitor),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(NanDe::new(value, self.sink, self.path)),
        }
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value.deserialize_enum(name, variants, visitor)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug)]
    struct S {
        x: f64,
        o: Option<f64>,
        v: Vec<f32>,
        n: Option<Box<S>>,
        s: String,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        a: f64,
        inner: Inner,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        b: Vec<f64>,
    }

    /// Regression (issue 15, item 4): a key unknown to a struct that denies unknown fields (a
    /// setting added by a newer version inside a summary's config) failed the whole summary,
    /// which then counted as unfinished and was deleted and rerun.
    #[test]
    fn unknown_keys_are_kept_by_path_instead_of_failing_a_strict_struct() {
        let text = r#"{"a": null, "new": 1, "inner": {"b": [1.0, null], "later": "x"}}"#;
        assert!(
            super::from_str::<Strict>(text).is_err(),
            "strict reading refuses"
        );
        let (s, unknown) = super::from_str_keeping_unknown::<Strict>(text).unwrap();
        assert!(s.a.is_nan() && s.inner.b[1].is_nan());
        assert_eq!(unknown.len(), 2, "{unknown:?}");
        assert_eq!(unknown["new"], serde_json::json!(1));
        assert_eq!(unknown["inner.later"], serde_json::json!("x"));
    }

    #[test]
    fn nan_round_trips_and_none_stays_none() {
        let s = S {
            x: f64::NAN,
            o: None,
            v: vec![1.0, f32::NAN],
            n: Some(Box::new(S {
                x: 2.0,
                o: Some(f64::INFINITY),
                v: vec![],
                n: None,
                s: "b".into(),
            })),
            s: "a".into(),
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            serde_json::from_str::<S>(&text).is_err(),
            "plain serde_json refuses null"
        );
        let back: S = super::from_str(&text).unwrap();
        assert!(back.x.is_nan() && back.o.is_none() && back.v[1].is_nan());
        let inner = back.n.unwrap();
        // A non-finite value inside an Option is written as null too and reads back as None:
        // JSON cannot tell the two apart.
        assert!(inner.o.is_none());
        assert_eq!((inner.x, inner.s.as_str()), (2.0, "b"));
    }
}
