use super::*;
use crate::agent::live::Contact;
use crate::agent::AgentFigures;
use crate::domain::{RoutingMethod, SipUri};
use crate::sip::endpoint::FinalStatus;
use crate::sip::uri::TransportKind;
use std::net::SocketAddr;

fn queue(customer: Uuid) -> Queue {
    Queue {
        id: Uuid::from_u128(100),
        customer_id: customer,
        name: "sales".into(),
        detail: String::new(),
        routing_method: RoutingMethod::RoundRobin,
        tag_ids: Vec::new(),
        wait_flow_id: Uuid::nil(),
        wait_actions: Vec::new(),
        wait_timeout: 0,
        service_timeout: 0,
        wrap_up_time: 0,
        ring_timeout: 0,
        service_level_time: 0,
        wait_announce_position: false,
        total_incoming_count: 0,
        total_serviced_count: 0,
        total_abandoned_count: 0,
        tm_create: String::new(),
        tm_update: String::new(),
        tm_delete: String::new(),
    }
}

fn agent(customer: Uuid, state: AgentState, registered: bool) -> AgentLive {
    let contacts = if registered {
        vec![Contact {
            uri: SipUri::parse("sip:a@127.0.0.1:5070").expect("a SIP URI"),
            expires_at: String::new(),
            user_agent: String::new(),
            flow: SocketAddr::from(([127, 0, 0, 1], 5070)),
            transport: TransportKind::Udp,
        }]
    } else {
        Vec::new()
    };
    AgentLive {
        state,
        contacts,
        customer_id: customer,
        tag_ids: Vec::new(),
        figures: AgentFigures::default(),
        ..AgentLive::offline()
    }
}

#[test]
fn only_available_registered_agents_of_the_tenant_not_engaged_are_candidates() {
    let customer = Uuid::from_u128(1);
    let id = Uuid::from_u128;
    let agents = vec![
        (id(10), agent(customer, AgentState::Available, true)),
        (id(11), agent(customer, AgentState::Ringing, true)),
        (
            id(12),
            agent(Uuid::from_u128(2), AgentState::Available, true),
        ),
        (id(13), agent(customer, AgentState::Available, false)),
        (id(14), agent(customer, AgentState::Available, true)),
        (id(15), agent(customer, AgentState::WrapUp, true)),
    ];
    let engaged: HashSet<Uuid> = [id(14)].into_iter().collect();
    let offered: HashMap<Uuid, u64> = [(id(10), 3)].into_iter().collect();
    let found = candidates(&queue(customer), &agents, &engaged, &offered);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, id(10));
    assert_eq!(found[0].last_offered, Some(3));
}

#[test]
fn a_declined_offer_is_a_rejection_and_anything_else_rang_out() {
    let ended = |code: Option<u16>| {
        let mut end = LegEnd::not_placed("x");
        end.final_status = code.map(|code| FinalStatus {
            code,
            reason: String::new(),
        });
        offer_refused(&end)
    };
    assert_eq!(ended(Some(486)), AgentInput::Rejected);
    assert_eq!(ended(Some(603)), AgentInput::Rejected);
    assert_eq!(ended(Some(487)), AgentInput::NoAnswer);
    assert_eq!(ended(Some(480)), AgentInput::NoAnswer);
    assert_eq!(ended(None), AgentInput::NoAnswer);
}
