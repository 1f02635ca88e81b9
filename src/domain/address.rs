//! `CommonAddress`: where a call goes (or comes from). On the wire and in the store it keeps
//! VoIPBIN's shape `{type, target, target_name, name, detail}`; inside, the target is typed by
//! its kind, and no field holds a control character.

use super::phone::{PhoneError, E164};
use super::sip_uri::{has_control, SipUri, SipUriError, UserPart};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

/// The address types VoIPBIN defines.
pub const ADDRESS_TYPES: [&str; 8] = [
    "agent",
    "conference",
    "email",
    "extension",
    "line",
    "sip",
    "tel",
    "web_session",
];

/// Free text with no control character (nothing below 0x20, no 0x7f): safe in a header value
/// once quoted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// Accepts `text` unless it holds a control character.
    pub fn new(text: impl Into<String>) -> Result<Text, Problem> {
        let text = text.into();
        if has_control(&text) {
            return Err(Problem::ControlCharacter);
        }
        Ok(Text(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an address points at, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AddressKind {
    /// Unset (`{"type": "", "target": ""}`).
    #[default]
    None,
    /// A phone number.
    Tel(E164),
    /// A SIP URI.
    Sip(SipUri),
    /// An agent, by id.
    Agent(Uuid),
    /// An extension, by its number or name.
    Extension(UserPart),
    /// An email address (not dialable).
    Email(Text),
    /// A conference, by id (not dialable).
    Conference(Text),
    /// A line account (not dialable).
    Line(Text),
    /// A web session (not dialable).
    WebSession(Text),
}

impl AddressKind {
    /// The wire `type` (`""` when unset).
    pub fn type_name(&self) -> &'static str {
        match self {
            AddressKind::None => "",
            AddressKind::Tel(_) => "tel",
            AddressKind::Sip(_) => "sip",
            AddressKind::Agent(_) => "agent",
            AddressKind::Extension(_) => "extension",
            AddressKind::Email(_) => "email",
            AddressKind::Conference(_) => "conference",
            AddressKind::Line(_) => "line",
            AddressKind::WebSession(_) => "web_session",
        }
    }

    /// The wire `target`.
    pub fn target(&self) -> String {
        self.target_text().into_owned()
    }

    /// The wire `target`, borrowed where the kind holds it as text.
    fn target_text(&self) -> Cow<'_, str> {
        match self {
            AddressKind::None => Cow::Borrowed(""),
            AddressKind::Tel(n) => Cow::Borrowed(n.as_str()),
            AddressKind::Sip(u) => Cow::Borrowed(u.as_str()),
            AddressKind::Agent(id) => Cow::Owned(id.to_string()),
            AddressKind::Extension(e) => Cow::Borrowed(e.as_str()),
            AddressKind::Email(t)
            | AddressKind::Conference(t)
            | AddressKind::Line(t)
            | AddressKind::WebSession(t) => Cow::Borrowed(t.as_str()),
        }
    }
}

/// What a trunk can dial, and what can stand in a From header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialable {
    /// A number: `sip:<number>@<trunk host>`.
    Number(E164),
    /// A SIP URI, used as it is.
    Uri(SipUri),
    /// A bare user part (the CLI's `ringmaster call alice`): `sip:<user>@<trunk host>`.
    User(UserPart),
}

impl fmt::Display for Dialable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dialable::Number(n) => n.fmt(f),
            Dialable::Uri(u) => u.fmt(f),
            Dialable::User(u) => u.fmt(f),
        }
    }
}

/// A destination or source: `{type, target, target_name, name, detail}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "AddressFields")]
pub struct Address {
    /// The target, typed by kind.
    pub kind: AddressKind,
    /// A display name for the target.
    pub target_name: Text,
    /// Free-form name.
    pub name: Text,
    /// Free-form detail.
    pub detail: Text,
}

/// The wire and store shape of an [`Address`]: every field a string, `""` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AddressFields {
    /// `tel`, `sip`, `agent`, `extension`, ... (`""` when unset).
    #[serde(rename = "type")]
    pub kind: String,
    /// For `tel` an E.164 number, for `sip` a SIP URI, for `agent` an id.
    pub target: String,
    /// A display name for the target.
    pub target_name: String,
    /// Free-form name.
    pub name: String,
    /// Free-form detail.
    pub detail: String,
}

/// What is wrong with one field of an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A character below 0x20 or 0x7f (CR and LF among them).
    #[error("contains a control character")]
    ControlCharacter,
    /// A type VoIPBIN does not define.
    #[error("unknown address type {0:?}; expected one of {types}", types = ADDRESS_TYPES.join(", "))]
    UnknownType(String),
    /// A target without a type.
    #[error("required when target is set")]
    TypeRequired,
    /// Not an E.164 number.
    #[error("{0}")]
    Phone(#[from] PhoneError),
    /// Not a SIP URI (or extension user part) we accept.
    #[error("{0}")]
    Sip(#[from] SipUriError),
    /// An agent target that is not a uuid.
    #[error("{0:?} is not an agent id (a uuid)")]
    AgentId(String),
    /// An email target that is not `local@domain`.
    #[error("{0:?} is not an email address")]
    Email(String),
}

/// An address refused, naming its field (`type`, `target`, `target_name`, `name`, `detail`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct AddressError {
    /// The field of the address.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
}

impl AddressError {
    fn at(field: &'static str) -> impl FnOnce(Problem) -> AddressError {
        move |problem| AddressError { field, problem }
    }
}

impl Address {
    /// A `tel` address for an E.164 number.
    pub fn tel(number: E164) -> Address {
        Address {
            kind: AddressKind::Tel(number),
            ..Address::default()
        }
    }

    /// A `sip` address for a URI.
    pub fn sip(uri: SipUri) -> Address {
        Address {
            kind: AddressKind::Sip(uri),
            ..Address::default()
        }
    }

    /// Whether the address is unset (no target).
    pub fn is_empty(&self) -> bool {
        self.kind == AddressKind::None
    }

    /// What a trunk dials for this address: only `tel` and `sip` addresses can be dialed
    /// (agents and extensions need agents to exist; the rest are not phones at all).
    pub fn dialable(&self) -> Option<Dialable> {
        match &self.kind {
            AddressKind::Tel(n) => Some(Dialable::Number(n.clone())),
            AddressKind::Sip(u) => Some(Dialable::Uri(u.clone())),
            _ => None,
        }
    }

    /// Reads the wire fields, reading a `tel` target with `tel` (the API normalises national
    /// numbers with its default region; the store holds E.164 already). Control characters in
    /// any field are refused before anything else is looked at.
    pub fn from_fields(
        fields: AddressFields,
        tel: impl FnOnce(&str) -> Result<E164, PhoneError>,
    ) -> Result<Address, AddressError> {
        let AddressFields {
            kind,
            target,
            target_name,
            name,
            detail,
        } = fields;
        for (field, value) in [
            ("type", &kind),
            ("target", &target),
            ("target_name", &target_name),
            ("name", &name),
            ("detail", &detail),
        ] {
            if has_control(value) {
                return Err(AddressError::at(field)(Problem::ControlCharacter));
            }
        }
        let target_name = Text::new(target_name).map_err(AddressError::at("target_name"))?;
        let name = Text::new(name).map_err(AddressError::at("name"))?;
        let detail = Text::new(detail).map_err(AddressError::at("detail"))?;
        if !kind.is_empty() && !ADDRESS_TYPES.contains(&kind.as_str()) {
            return Err(AddressError::at("type")(Problem::UnknownType(kind)));
        }
        let kind = parse_target(&kind, target.trim(), tel)?;
        Ok(Address {
            kind,
            target_name,
            name,
            detail,
        })
    }
}

fn parse_target(
    kind: &str,
    target: &str,
    tel: impl FnOnce(&str) -> Result<E164, PhoneError>,
) -> Result<AddressKind, AddressError> {
    let bad = AddressError::at("target");
    if target.is_empty() {
        return Ok(AddressKind::None);
    }
    let text = || Text::new(target).map_err(AddressError::at("target"));
    Ok(match kind {
        "" => return Err(AddressError::at("type")(Problem::TypeRequired)),
        "tel" => AddressKind::Tel(tel(target).map_err(|e| bad(e.into()))?),
        "sip" => AddressKind::Sip(SipUri::parse(target).map_err(|e| bad(e.into()))?),
        "agent" => AddressKind::Agent(
            target
                .parse()
                .map_err(|_| bad(Problem::AgentId(target.into())))?,
        ),
        "extension" => AddressKind::Extension(UserPart::parse(target).map_err(|e| bad(e.into()))?),
        "email" => {
            let well_formed = target
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
                && !target.contains(char::is_whitespace);
            if !well_formed {
                return Err(bad(Problem::Email(target.into())));
            }
            AddressKind::Email(text()?)
        }
        "conference" => AddressKind::Conference(text()?),
        "line" => AddressKind::Line(text()?),
        _ => AddressKind::WebSession(text()?),
    })
}

impl TryFrom<AddressFields> for Address {
    type Error = AddressError;

    /// The store's reading: a `tel` target must already be E.164.
    fn try_from(fields: AddressFields) -> Result<Address, AddressError> {
        Address::from_fields(fields, E164::parse)
    }
}

impl From<Address> for AddressFields {
    fn from(a: Address) -> AddressFields {
        AddressFields {
            kind: a.kind.type_name().into(),
            target: a.kind.target(),
            target_name: a.target_name.0,
            name: a.name.0,
            detail: a.detail.0,
        }
    }
}

/// Described as its wire shape, [`AddressFields`].
impl utoipa::PartialSchema for Address {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        AddressFields::schema()
    }
}

impl utoipa::ToSchema for Address {}

/// Written as [`AddressFields`] without copying them: every attempt's record writes two.
impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Address", 5)?;
        s.serialize_field("type", self.kind.type_name())?;
        s.serialize_field("target", &self.kind.target_text())?;
        s.serialize_field("target_name", self.target_name.as_str())?;
        s.serialize_field("name", self.name.as_str())?;
        s.serialize_field("detail", self.detail.as_str())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: serde_json::Value) -> Result<Address, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn each_kind_reads_from_and_writes_back_to_the_voipbin_shape() {
        let agent = Uuid::new_v4().to_string();
        for (kind, target) in [
            ("tel", "+15551234567"),
            ("sip", "sip:alice@127.0.0.1:5080"),
            ("agent", agent.as_str()),
            ("extension", "2001"),
            ("email", "jane@example.com"),
            ("conference", "c-1"),
            ("line", "line-1"),
            ("web_session", "w-1"),
        ] {
            let wire = json!({
                "type": kind,
                "target": target,
                "target_name": "Jane \"JJ\" Doe",
                "name": "n",
                "detail": "d",
            });
            let a = read(wire.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(a.kind.type_name(), kind);
            assert_eq!(serde_json::to_value(&a).expect("json"), wire, "{kind}");
        }
        let none = read(json!({"type": "", "target": ""})).expect("unset");
        assert!(none.is_empty());
        assert_eq!(
            serde_json::to_value(&none).expect("json"),
            json!({"type": "", "target": "", "target_name": "", "name": "", "detail": ""})
        );
    }

    #[test]
    fn only_tel_and_sip_addresses_are_dialable() {
        let tel = read(json!({"type": "tel", "target": "+15551234567"})).expect("tel");
        assert_eq!(
            tel.dialable().map(|d| d.to_string()),
            Some("+15551234567".into())
        );
        let sip = read(json!({"type": "sip", "target": "sip:alice@h"})).expect("sip");
        assert!(matches!(sip.dialable(), Some(Dialable::Uri(_))));
        for (kind, target) in [("email", "a@b"), ("extension", "2001"), ("line", "x")] {
            let a = read(json!({"type": kind, "target": target})).expect(kind);
            assert_eq!(a.dialable(), None, "{kind}");
        }
    }

    #[test]
    fn control_characters_in_any_field_are_refused_naming_it() {
        for field in ["type", "target", "target_name", "name", "detail"] {
            let mut fields = json!({"type": "tel", "target": "+15551234567"});
            fields[field] = json!("x\r\nP-Asserted-Identity: <sip:+18005551212@x>");
            let e =
                Address::try_from(serde_json::from_value::<AddressFields>(fields).expect("fields"));
            assert_eq!(
                e.map_err(|e| e.to_string()),
                Err(format!("{field}: contains a control character"))
            );
        }
        let e = read(json!({"type": "sip", "target": "sip:a@h\u{7f}"}));
        assert!(e.is_err());
    }

    #[test]
    fn targets_that_do_not_parse_for_their_kind_are_refused() {
        let e = |v| {
            Address::try_from(serde_json::from_value::<AddressFields>(v).expect("fields"))
                .map_err(|e| (e.field, e.to_string()))
        };
        assert_eq!(
            e(json!({"type": "fax", "target": "1"})).map_err(|e| e.0),
            Err("type")
        );
        assert_eq!(
            e(json!({"target": "+15551234567"})).map_err(|e| e.0),
            Err("type")
        );
        for (kind, target) in [
            ("tel", "5551234567"),
            ("sip", "sip:sip:alice@h"),
            ("sip", "alice@h"),
            ("agent", "a-1"),
            ("extension", "20 01"),
            ("email", "jane"),
        ] {
            assert_eq!(
                e(json!({"type": kind, "target": target})).map_err(|e| e.0),
                Err("target"),
                "{kind} {target}"
            );
        }
    }
}
