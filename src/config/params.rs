//! A check's params as the plan keeps them: the JSON until the check is
//! built, and always its digest.

use serde_json::Value;

/// A check's params: the value, kept until the plan has built the check
/// (`release` drops it then: 10,000 checks' small JSON maps cost about 6
/// MB), and its SHA-256, by which a reload compares them (equality is the
/// digest's).
#[derive(Clone)]
pub struct Params {
    value: Value,
    digest: [u8; 32],
}

impl Params {
    pub fn new(value: Value) -> Params {
        // Keys are in map order (a BTreeMap's, so sorted): equal values have
        // equal text. Serialising a Value cannot fail.
        let text = serde_json::to_vec(&value).unwrap_or_default();
        let mut digest = [0; 32];
        digest.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &text).as_ref());
        Params { value, digest }
    }

    /// Drops the value, keeping the digest: once the check is built from
    /// it, only a reload's comparison needs it.
    pub fn release(&mut self) {
        self.value = Value::Null;
    }

    /// Whether `release` dropped the value (a spec's params are otherwise
    /// an object, `{}` when the file has none).
    pub fn is_released(&self) -> bool {
        self.value.is_null()
    }

    /// The value, or `None` once released: a reader of a built check's
    /// params must say what it does without them (no silent `null`).
    pub fn value(&self) -> Option<&Value> {
        (!self.is_released()).then_some(&self.value)
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.digest == other.digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Once released, the value is gone for every reader: `value()` says
    /// so, and building a check from it is an error, not a check built
    /// from `null`. Equality (a reload's comparison) still holds.
    #[test]
    fn released_params_are_absent_not_null() {
        let mut params = Params::new(serde_json::json!({ "url": "http://127.0.0.1/" }));
        assert_eq!(
            params
                .value()
                .and_then(|v| v.get("url"))
                .and_then(Value::as_str),
            Some("http://127.0.0.1/")
        );
        let kept = params.clone();
        params.release();
        assert!(params.is_released());
        assert!(params.value().is_none());
        assert!(params == kept, "a reload compares digests");
        let Err(error) = crate::checks::parse_params::<serde_json::Map<String, Value>>(&params)
        else {
            panic!("released params parsed");
        };
        assert_eq!(error.field, "params");
        assert!(error.message.contains("released"), "{}", error.message);
    }
}
