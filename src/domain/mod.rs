//! Plain types shared by every layer. This module depends on nothing else in the crate.

pub mod address;
pub mod agent;
pub mod call_window;
pub mod campaign;
pub mod campaigncall;
mod disposition;
pub mod dnclist;
pub mod event;
pub mod flow;
pub mod outdial;
pub mod outplan;
pub mod phone;
pub mod queue;
pub mod recording;
pub mod sip_uri;
pub mod time;
pub mod webhook;

pub use address::{Address, AddressKind, Dialable, Text};
pub use agent::{Agent, Availability, RingMethod, Username};
pub use call_window::{CallWindow, SourceStrategy};
pub use campaign::{Action, Campaign, CampaignStatus, CampaignType, DialMode, EndHandle};
pub use campaigncall::{CallStatus, Campaigncall};
pub use disposition::{Disposition, HangupBy, SAFE_HARBOUR_REASON};
pub use dnclist::{DncNumber, DncSource, Dnclist};
pub use event::{Event, EventSink, EventType, NewEvent};
pub use flow::Flow;
pub use outdial::{Destinations, Outdial, Target, TargetStatus, TryCounts};
pub use outplan::Outplan;
pub use phone::E164;
pub use queue::{Queue, RoutingMethod};
pub use recording::{RecordRequest, Recording, RecordingFilter, RecordingStatus};
pub use sip_uri::{SipUri, UserPart};
pub use webhook::{Delivery, DeliveryStatus, Webhook, WebhookStatus};
