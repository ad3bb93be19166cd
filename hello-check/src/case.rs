//! What a suite's case is, which dialect a run speaks, and which cases a run selects.
//!
//! Each suite has one enum of its cases; the [`Case`] trait is what the reports, the command
//! line and PROTOCOL.md's tables know of a case. Adding a case is adding a variant: the compiler
//! then asks for its name, what it checks and how it runs.

pub use hello_protocol::Dialect;

/// One case of a suite.
pub trait Case: Copy + Eq + Sized + 'static {
    /// Every case of the suite, in the order they are reported.
    const ALL: &'static [Self];

    /// The name reports and `--only` use, e.g. `echo-round-trip`.
    fn name(self) -> &'static str;

    /// What it checks, as PROTOCOL.md section 10 lists it.
    fn checks(self) -> &'static str;

    /// Whether its verdict rests on the peer's timers (Kiss, Ping, eviction).
    fn timed(self) -> bool;

    /// The dialects it applies to.
    fn dialects(self) -> &'static [Dialect] {
        &[Dialect::Json]
    }

    /// Its name in a report of a run in `dialect`: `name`, or `name [dialect]` where the dialect
    /// is not the default.
    fn label(self, dialect: Dialect) -> String {
        if dialect == Dialect::default() {
            self.name().to_owned()
        } else {
            format!("{} [{}]", self.name(), dialect.name())
        }
    }
}

/// Which cases a run in `dialect` runs: all that apply to it, `only` some, or all but `skip`
/// some, in the suite's order.
///
/// # Errors
/// A name that is no case of the suite, so that a typo never silently runs nothing.
pub fn select<C: Case>(
    only: &[String],
    skip: &[String],
    dialect: Dialect,
) -> Result<Vec<C>, String> {
    for name in only.iter().chain(skip) {
        if !C::ALL.iter().any(|case| case.name() == name) {
            return Err(format!("no case named {name:?}; --list shows them"));
        }
    }
    for name in only {
        let judged = C::ALL
            .iter()
            .filter(|case| case.name() == name)
            .flat_map(|case| case.dialects().iter().copied());
        let dialects: Vec<&str> = judged.clone().map(Dialect::name).collect();
        if !judged.into_iter().any(|judged| judged == dialect) {
            return Err(format!(
                "case {name:?} judges {} sessions, not {}: run it with --dialect {}",
                dialects.join(" and "),
                dialect.name(),
                dialects[0]
            ));
        }
    }
    Ok(C::ALL
        .iter()
        .copied()
        .filter(|case| case.dialects().contains(&dialect))
        .filter(|case| only.is_empty() || only.iter().any(|name| name == case.name()))
        .filter(|case| !skip.iter().any(|name| name == case.name()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Toy {
        A,
        B,
        C,
    }

    impl Case for Toy {
        const ALL: &'static [Self] = &[Toy::A, Toy::B, Toy::C];

        fn name(self) -> &'static str {
            match self {
                Toy::A => "a",
                Toy::B => "b",
                Toy::C => "c",
            }
        }

        fn checks(self) -> &'static str {
            ""
        }

        fn timed(self) -> bool {
            false
        }

        fn dialects(self) -> &'static [Dialect] {
            match self {
                Toy::C => &[Dialect::V1],
                _ => &[Dialect::Json],
            }
        }
    }

    fn names(only: &[&str], skip: &[&str]) -> Result<Vec<&'static str>, String> {
        let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cases = select::<Toy>(&owned(only), &owned(skip), Dialect::Json)?;
        Ok(cases.into_iter().map(Toy::name).collect())
    }

    #[test]
    fn selection_keeps_the_suites_order_and_refuses_unknown_names() {
        assert_eq!(names(&[], &[]).unwrap(), ["a", "b"]);
        assert_eq!(names(&["b", "a"], &[]).unwrap(), ["a", "b"]);
        assert_eq!(names(&[], &["a"]).unwrap(), ["b"]);
        assert!(
            names(&["d"], &[])
                .unwrap_err()
                .contains("no case named \"d\"")
        );
    }

    #[test]
    fn a_case_of_another_dialect_is_refused_by_name_and_left_out_otherwise() {
        assert_eq!(names(&[], &[]).unwrap(), ["a", "b"]);
        assert_eq!(
            names(&["c"], &[]).unwrap_err(),
            "case \"c\" judges v1 sessions, not json: run it with --dialect v1"
        );
        assert_eq!(names(&[], &["c"]).unwrap(), ["a", "b"]);
    }

    #[test]
    fn the_default_dialect_is_not_named_in_labels() {
        assert_eq!(Toy::A.label(Dialect::Json), "a");
        assert_eq!(Toy::A.label(Dialect::V1), "a [v1]");
    }
}
