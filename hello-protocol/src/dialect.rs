//! The two dialects of the protocol: PROTOCOL.md's JSON text messages, and the ecosystem's
//! binary frames, v1.

/// The encodings of the protocol: a session speaks one, a suite's run judges one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// PROTOCOL.md's JSON text messages, the default.
    #[default]
    Json,
    /// The ecosystem's binary frames (PROTOCOL.md, sections 11 and 12).
    V1,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: &'static [Dialect] = &[Dialect::Json, Dialect::V1];

    /// How the dialect is named on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Json => "json",
            Dialect::V1 => "v1",
        }
    }

    /// The dialect a session's first data message fixes (PROTOCOL.md, section 12.1): v1 for a
    /// v1 frame, JSON for anything else.
    pub fn of_first_message(bytes: &[u8]) -> Dialect {
        if crate::v1::is_v1(bytes) {
            Dialect::V1
        } else {
            Dialect::Json
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    /// The dialect of a [`Dialect::name`], as a command line gives it.
    fn from_str(name: &str) -> Result<Dialect, String> {
        Dialect::ALL
            .iter()
            .copied()
            .find(|dialect| dialect.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
                format!("no dialect {name:?}; known: {}", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_is_parsed_from_its_name() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.name().parse(), Ok(*dialect));
        }
        assert_eq!(
            "v2".parse::<Dialect>(),
            Err("no dialect \"v2\"; known: json, v1".to_owned())
        );
    }
}
