//! Suricata eve.json: one JSON event per line. `alert` events become
//! alerts; `flow` events give a community ID to alerts of their flow
//! (`flow_id`) that lack one. Other event types are skipped. A line that is
//! not a JSON object, or an alert without the fields a join needs in the
//! form Suricata writes them, is an error naming the file and line.

use crate::error::LabelError;
use crate::lines::for_each_line;
use crate::net::protocol_number;
use crate::time::parse_instant;
use crate::truth::{Alert, GroundTruth, NO_SEVERITY, Source};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_type: Option<Cow<'a, str>>,
    #[serde(default)]
    flow_id: Option<u64>,
    #[serde(borrow, default)]
    src_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dest_ip: Option<Cow<'a, str>>,
    #[serde(default)]
    src_port: Option<u16>,
    #[serde(default)]
    dest_port: Option<u16>,
    #[serde(borrow, default)]
    proto: Option<Proto<'a>>,
    #[serde(borrow, default)]
    community_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    alert: Option<AlertBody<'a>>,
}

/// Suricata writes the protocol by name ("TCP"); numbers are accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Proto<'a> {
    Number(u8),
    Name(#[serde(borrow)] Cow<'a, str>),
}

#[derive(Deserialize)]
struct AlertBody<'a> {
    #[serde(default)]
    gid: Option<u32>,
    signature_id: Option<u64>,
    #[serde(default)]
    rev: Option<u32>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    category: Option<Cow<'a, str>>,
    #[serde(default)]
    severity: Option<u32>,
}

/// What one line held.
#[derive(Debug, PartialEq)]
pub enum Line {
    Alert(Box<Alert>),
    /// A flow event with a community ID.
    Flow {
        flow_id: u64,
        community_id: String,
    },
    Other,
}

/// Parses one line of eve.json. `file` is the index the alert records.
pub fn parse_line(text: &str, file: usize, line: u64) -> Result<Line, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Line::Other);
    }
    let event: Event<'_> = serde_json::from_str(text).map_err(|e| format!("not an eve.json event: {e}"))?;
    match event.event_type.as_deref() {
        Some("alert") => {}
        Some("flow") => {
            return Ok(match (event.flow_id, event.community_id) {
                (Some(flow_id), Some(id)) if !id.is_empty() => Line::Flow { flow_id, community_id: id.into_owned() },
                _ => Line::Other,
            });
        }
        Some(_) => return Ok(Line::Other),
        None => return Err("event without event_type".into()),
    }
    let body = event.alert.ok_or("alert event without an \"alert\" object")?;
    let signature_id = body.signature_id.ok_or("alert without alert.signature_id")?;
    let timestamp = event.timestamp.ok_or("alert without timestamp")?;
    let time_ns = parse_instant(&timestamp, None).map_err(|e| format!("alert timestamp: {e}"))?;
    let proto = match event.proto {
        None => None,
        Some(Proto::Number(n)) => Some(n),
        Some(Proto::Name(name)) => {
            Some(protocol_number(&name).ok_or_else(|| format!("alert with unknown protocol {name:?}"))?)
        }
    };
    let endpoint = |ip: Option<Cow<'_, str>>, port: Option<u16>, what: &str| -> Result<Option<(IpAddr, u16)>, String> {
        match ip {
            None => Ok(None),
            Some(ip) => {
                let addr: IpAddr = ip.parse().map_err(|_| format!("alert with invalid {what} {ip:?}"))?;
                Ok(Some((addr, port.unwrap_or(0))))
            }
        }
    };
    let src = endpoint(event.src_ip, event.src_port, "src_ip")?;
    let dst = endpoint(event.dest_ip, event.dest_port, "dest_ip")?;
    Ok(Line::Alert(Box::new(Alert {
        source: Source::Eve,
        file,
        line,
        time_ns,
        gid: body.gid.unwrap_or(1),
        signature_id,
        rev: body.rev.unwrap_or(0),
        signature: body.signature.map(Cow::into_owned).unwrap_or_default(),
        category: body.category.map(Cow::into_owned).unwrap_or_default(),
        severity: body.severity.unwrap_or(NO_SEVERITY),
        flow_id: event.flow_id,
        community_id: event.community_id.filter(|c| !c.is_empty()).map(Cow::into_owned),
        proto,
        src,
        dst,
    })))
}

/// Reads an eve.json file into `truth`. `open` opens it (twice, if alerts
/// without a community ID may find one in a flow event).
pub fn read<R: Read>(
    path: &Path,
    mut open: impl FnMut() -> std::io::Result<R>,
    truth: &mut GroundTruth,
) -> Result<(), LabelError> {
    let file = truth.files.len();
    truth.files.push(path.to_owned());
    let first = truth.alerts.len();
    let mut flow_events_with_ids = 0u64;
    let input = open().map_err(|e| LabelError::io(path, e))?;
    for_each_line(path, input, false, |line, text| {
        match parse_line(text, file, line).map_err(|m| LabelError::input(path, line, m))? {
            Line::Alert(alert) => truth.alerts.push(*alert),
            Line::Flow { .. } => flow_events_with_ids += 1,
            Line::Other => {}
        }
        Ok(())
    })?;
    // Flow events follow their alerts in Suricata's output, but need not:
    // a second pass finds them wherever they are, bounded by the alerts.
    let mut wanted: HashMap<u64, Option<String>> = truth.alerts[first..]
        .iter()
        .filter(|a| a.community_id.is_none())
        .filter_map(|a| a.flow_id)
        .map(|id| (id, None))
        .collect();
    if wanted.is_empty() || flow_events_with_ids == 0 {
        return Ok(());
    }
    let input = open().map_err(|e| LabelError::io(path, e))?;
    for_each_line(path, input, false, |line, text| {
        // Only flow events matter now; a cheap look before parsing.
        if !text.contains("\"flow\"") {
            return Ok(());
        }
        if let Line::Flow { flow_id, community_id } =
            parse_line(text, file, line).map_err(|m| LabelError::input(path, line, m))?
            && let Some(slot) = wanted.get_mut(&flow_id)
        {
            *slot = Some(community_id);
        }
        Ok(())
    })?;
    for alert in &mut truth.alerts[first..] {
        if alert.community_id.is_none()
            && let Some(Some(id)) = alert.flow_id.and_then(|f| wanted.get(&f))
        {
            alert.community_id = Some(id.clone());
            truth.ids_from_flow_events += 1;
        }
    }
    Ok(())
}

/// Fuzzing entry point: parses arbitrary bytes as eve.json lines.
pub fn fuzz_entry(data: &[u8]) {
    let mut truth = GroundTruth::default();
    let _ = read(Path::new("fuzz"), || Ok(data), &mut truth);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERT: &str = r#"{"timestamp":"2017-07-05T14:34:37.123456+0000","flow_id":1234,"pcap_cnt":5,"event_type":"alert","src_ip":"192.168.10.5","src_port":49162,"dest_ip":"198.51.100.1","dest_port":80,"proto":"TCP","community_id":"1:abc=","alert":{"action":"allowed","gid":1,"signature_id":2016683,"rev":6,"signature":"ET TROJAN Sakurel","category":"A Network Trojan was detected","severity":1}}"#;

    #[test]
    fn alerts_keep_their_fields() {
        let Line::Alert(alert) = parse_line(ALERT, 3, 7).unwrap() else { panic!("not an alert") };
        assert_eq!(alert.source, Source::Eve);
        assert_eq!((alert.file, alert.line), (3, 7));
        assert_eq!(alert.time_ns, 1_499_265_277_123_456_000);
        assert_eq!((alert.gid, alert.signature_id, alert.rev), (1, 2016683, 6));
        assert_eq!(alert.signature, "ET TROJAN Sakurel");
        assert_eq!(alert.category, "A Network Trojan was detected");
        assert_eq!(alert.severity, 1);
        assert_eq!(alert.flow_id, Some(1234));
        assert_eq!(alert.community_id.as_deref(), Some("1:abc="));
        assert_eq!(alert.proto, Some(6));
        assert_eq!(alert.src, Some(("192.168.10.5".parse().unwrap(), 49162)));
        assert_eq!(alert.dst, Some(("198.51.100.1".parse().unwrap(), 80)));
    }

    #[test]
    fn other_events_and_flow_events() {
        assert_eq!(parse_line(r#"{"event_type":"dns","timestamp":"x"}"#, 0, 1), Ok(Line::Other));
        assert_eq!(parse_line("   ", 0, 1), Ok(Line::Other));
        assert_eq!(
            parse_line(r#"{"event_type":"flow","flow_id":9,"community_id":"1:x="}"#, 0, 1),
            Ok(Line::Flow { flow_id: 9, community_id: "1:x=".into() })
        );
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let err = |text: &str| parse_line(text, 0, 1).unwrap_err();
        assert!(err(r#"{"event_type":"alert""#).starts_with("not an eve.json event"));
        assert!(err("[1,2]").starts_with("not an eve.json event"));
        assert_eq!(
            err(r#"{"event_type":"alert","timestamp":"2017-07-05T14:34:37Z"}"#),
            "alert event without an \"alert\" object"
        );
        assert_eq!(err(r#"{"event_type":"alert","alert":{"signature_id":1}}"#), "alert without timestamp");
        assert!(
            err(r#"{"event_type":"alert","timestamp":"2017-07-05T14:34:37","alert":{"signature_id":1}}"#)
                .contains("no time zone")
        );
        assert!(err(&ALERT.replace("\"TCP\"", "\"XTP\"")).contains("unknown protocol \"XTP\""));
        assert!(err(&ALERT.replace("192.168.10.5", "192.168.10")).contains("invalid src_ip"));
        assert_eq!(err(r#"{"timestamp":"x"}"#), "event without event_type");
    }

    #[test]
    fn flow_events_give_ids_to_alerts_without_one_wherever_they_are() {
        let without = ALERT.replace(r#""community_id":"1:abc=","#, "");
        let flow = r#"{"event_type":"flow","flow_id":1234,"community_id":"1:fromflow="}"#;
        for text in [format!("{flow}\n{without}\n"), format!("{without}\n{flow}\n")] {
            let mut truth = GroundTruth::default();
            read(Path::new("eve.json"), || Ok(text.as_bytes()), &mut truth).unwrap();
            assert_eq!(truth.alerts.len(), 1);
            assert_eq!(truth.alerts[0].community_id.as_deref(), Some("1:fromflow="));
            assert_eq!(truth.ids_from_flow_events, 1);
        }
        let mut truth = GroundTruth::default();
        let text = format!("{ALERT}\nnot json\n");
        let err = read(Path::new("eve.json"), || Ok(text.as_bytes()), &mut truth).unwrap_err();
        assert!(err.to_string().starts_with("eve.json:2: not an eve.json event"), "{err}");
    }

    #[test]
    fn every_cut_of_a_line_parses_or_fails_cleanly() {
        for cut in 0..=ALERT.len() {
            let _ = parse_line(&ALERT[..cut], 0, 1);
        }
        fuzz_entry(b"\xff\xfe{\"event_type\":\"alert\"}\n{}\n");
    }
}
