//! Property tests for the flat storage rule (see ARCHITECTURE.md, Naming).

use proptest::prelude::*;
use shoptrain_shared::naming::{escape_id, ModelName, ModelType, Scope, VersionedName};

fn id() -> impl Strategy<Value = String> {
    // Arbitrary Unicode, biased towards the characters that need escaping.
    prop_oneof![
        "\\PC{1,12}",
        "[a-z_~/\\\\. ]{1,10}",
        Just("all".to_string()),
        Just("..".to_string()),
    ]
}

fn name() -> impl Strategy<Value = VersionedName> {
    let scope =
        prop_oneof![
            (id(), proptest::option::of(id()))
                .prop_filter_map("too long", |(p, s)| Scope::product(&p, s.as_deref()).ok()),
            (id(), proptest::option::of(id())).prop_filter_map("too long", |(s, p)| Scope::store(
                &s,
                p.as_deref()
            )
            .ok()),
            Just(Scope::Global),
        ];
    let ty = prop_oneof![
        Just(ModelType::Mlstm),
        Just(ModelType::Transformer),
        Just(ModelType::Kan)
    ];
    (scope, ty, 1u32..10_000).prop_map(|(s, t, v)| VersionedName::new(ModelName::new(s, t), v))
}

proptest! {
    #[test]
    fn parse_inverts_format(n in name()) {
        prop_assert_eq!(VersionedName::parse(&n.prefix()).unwrap(), n.clone());
        prop_assert_eq!(ModelName::parse(&n.name.identifier()).unwrap(), n.name);
    }

    #[test]
    fn tokens_are_safe(raw in id()) {
        if let Ok(token) = escape_id("id", &raw) {
            prop_assert!(!token.contains('_'));
            prop_assert!(!token.contains('/'));
            prop_assert!(!token.contains('\\'));
            prop_assert!(!token.contains(".."));
            prop_assert!(token.len() <= 64);
            prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'~'));
        }
    }

    #[test]
    fn different_names_give_different_prefixes(a in name(), b in name()) {
        if a != b {
            prop_assert_ne!(a.prefix(), b.prefix());
        }
    }
}
