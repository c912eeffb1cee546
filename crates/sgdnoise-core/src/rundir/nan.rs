//! Reading back JSON that holds NaN: `serde_json` writes a non-finite `f64` as `null` (JSON has no
//! NaN), and refuses `null` for an `f64` when reading. A diverged run's summary, or a statistic
//! over an empty set, holds NaN, so the store reads through [`from_str`], which turns `null` into
//! NaN wherever the target is a float and keeps `null` meaning `None` for options (so an
//! `Option<f64>` holding NaN reads back as `None`).

use serde::de::{
    self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

/// Parses `text` as `T`, reading `null` as NaN where `T` has a float.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let value: Value = serde_json::from_str(text)?;
    T::deserialize(NanDe(value))
}

struct NanDe(Value);

struct Seq(std::vec::IntoIter<Value>);
impl<'de> SeqAccess<'de> for Seq {
    type Error = serde_json::Error;
    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(NanDe(v)))
            .transpose()
    }
}

struct Map(serde_json::map::IntoIter, Option<Value>);
impl<'de> MapAccess<'de> for Map {
    type Error = serde_json::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.0.next() {
            Some((k, v)) => {
                self.1 = Some(v);
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
        seed.deserialize(NanDe(self.1.take().unwrap_or(Value::Null)))
    }
}

impl<'de> Deserializer<'de> for NanDe {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Map(map.into_iter(), None)),
            other => other.deserialize_any(visitor),
        }
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_f64(f64::NAN),
            other => other.deserialize_f64(visitor),
        }
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_f32(f32::NAN),
            other => other.deserialize_f32(visitor),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(NanDe(other)),
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
        self.0.deserialize_enum(name, variants, visitor)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
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
