//! Labelled flows for training: the Connection table `netcap label` writes
//! (`<OUT>/Connection_labeled.csv` or `.parquet`: dump's columns plus
//! `label`), turned into NetWatcher features and a class (0 for the normal
//! label, 1 for every other).

use crate::features::{Features, netwatcher_features};
use arrow_array::{Array, RecordBatch, cast::AsArray, types};
use arrow_schema::DataType;
use netcap_records::Connection;
use std::path::{Path, PathBuf};

/// A table that cannot be used for training.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: line {line}: column {column}: {reason}")]
    Value { path: PathBuf, line: u64, column: String, reason: String },
}

/// Labelled flows: features, class and label text per row.
#[derive(Debug, Default, Clone)]
pub struct Dataset {
    pub rows: Vec<Features>,
    /// 1 (attack) or 0 (normal).
    pub classes: Vec<u8>,
    pub labels: Vec<String>,
}

/// The Connection columns the features come from (besides `label`).
const COLUMNS: &[&str] = &[
    "ip_protocol",
    "duration_ns",
    "packets",
    "payload_bytes",
    "payload_bytes_min",
    "payload_bytes_max",
    "payload_bytes_std",
    "payload_bytes_min_nonzero",
    "payload_bytes_mean_nonzero",
    "payload_bytes_std_nonzero",
    "payload_packets_nonzero",
    "interarrival_min_ns",
    "interarrival_max_ns",
    "interarrival_std_s",
    "syn_count",
    "fin_count",
    "rst_count",
    "ack_count",
    "psh_count",
    "urg_count",
    "ece_count",
    "cwr_count",
    "client_window_min",
    "client_window_max",
    "client_window_mean",
    "client_window_std",
    "client_window_samples",
    "client_window_scale",
    "client_initial_window",
    "client_zero_window_count",
    "client_zero_window_update_count",
    "server_window_min",
    "server_window_max",
    "server_window_mean",
    "server_window_std",
    "server_window_samples",
    "server_window_scale",
    "server_initial_window",
    "server_zero_window_count",
    "server_zero_window_update_count",
];

/// Sets the Connection field named `COLUMNS[i]` from its text (dump's CSV
/// form: numbers, the protocol's name for `ip_protocol`, empty for an
/// unset window scale).
fn set_field(c: &mut Connection, i: usize, text: &str) -> Result<(), String> {
    let text = text.trim();
    fn int<T: std::str::FromStr>(t: &str) -> Result<T, String> {
        if t.is_empty() {
            return T::from_str("0").map_err(|_| "empty".to_string());
        }
        t.parse::<T>().map_err(|_| format!("{t:?} is not a whole number in range"))
    }
    fn float(t: &str) -> Result<f64, String> {
        if t.is_empty() {
            return Ok(0.0);
        }
        t.parse::<f64>().map_err(|_| format!("{t:?} is not a number"))
    }
    let scale = |t: &str| -> Result<Option<u32>, String> { if t.is_empty() { Ok(None) } else { int(t).map(Some) } };
    match i {
        0 => {
            c.ip_protocol = match text.to_ascii_uppercase().as_str() {
                "TCP" => 6,
                "UDP" => 17,
                "ICMP" | "ICMPV4" => 1,
                "ICMPV6" | "IPV6-ICMP" => 58,
                "SCTP" => 132,
                _ => int(text).unwrap_or(0),
            }
        }
        1 => c.duration_ns = int(text)?,
        2 => c.packets = int(text)?,
        3 => c.payload_bytes = int(text)?,
        4 => c.payload_bytes_min = int(text)?,
        5 => c.payload_bytes_max = int(text)?,
        6 => c.payload_bytes_std = float(text)?,
        7 => c.payload_bytes_min_nonzero = int(text)?,
        8 => c.payload_bytes_mean_nonzero = float(text)?,
        9 => c.payload_bytes_std_nonzero = float(text)?,
        10 => c.payload_packets_nonzero = int(text)?,
        11 => c.interarrival_min_ns = int(text)?,
        12 => c.interarrival_max_ns = int(text)?,
        13 => c.interarrival_std_s = float(text)?,
        14 => c.syn_count = int(text)?,
        15 => c.fin_count = int(text)?,
        16 => c.rst_count = int(text)?,
        17 => c.ack_count = int(text)?,
        18 => c.psh_count = int(text)?,
        19 => c.urg_count = int(text)?,
        20 => c.ece_count = int(text)?,
        21 => c.cwr_count = int(text)?,
        22 => c.client_window_min = int(text)?,
        23 => c.client_window_max = int(text)?,
        24 => c.client_window_mean = float(text)?,
        25 => c.client_window_std = float(text)?,
        26 => c.client_window_samples = int(text)?,
        27 => c.client_window_scale = scale(text)?,
        28 => c.client_initial_window = int(text)?,
        29 => c.client_zero_window_count = int(text)?,
        30 => c.client_zero_window_update_count = int(text)?,
        31 => c.server_window_min = int(text)?,
        32 => c.server_window_max = int(text)?,
        33 => c.server_window_mean = float(text)?,
        34 => c.server_window_std = float(text)?,
        35 => c.server_window_samples = int(text)?,
        36 => c.server_window_scale = scale(text)?,
        37 => c.server_initial_window = int(text)?,
        38 => c.server_zero_window_count = int(text)?,
        39 => c.server_zero_window_update_count = int(text)?,
        _ => {}
    }
    Ok(())
}

/// The table to read for `path`: the file itself, or in a directory
/// `Connection_labeled.parquet`, else `Connection_labeled.csv`.
pub fn labelled_table(path: &Path) -> PathBuf {
    if path.is_dir() {
        let parquet = path.join("Connection_labeled.parquet");
        if parquet.exists() {
            return parquet;
        }
        return path.join("Connection_labeled.csv");
    }
    path.to_path_buf()
}

/// Reads a labelled Connection table (CSV, or Parquet by the `.parquet`
/// extension). Rows labelled `normal` are class 0, every other label class
/// 1.
pub fn read_labelled(path: &Path, normal: &str) -> Result<Dataset, DatasetError> {
    let table = labelled_table(path);
    if table.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        read_parquet(&table, normal)
    } else {
        read_csv(&table, normal)
    }
}

fn column_positions(names: &[String], path: &Path) -> Result<(Vec<usize>, usize), DatasetError> {
    let find = |want: &str| names.iter().position(|n| n == want);
    let mut positions = Vec::with_capacity(COLUMNS.len());
    for want in COLUMNS {
        match find(want) {
            Some(p) => positions.push(p),
            None => {
                return Err(DatasetError::Format {
                    path: path.to_path_buf(),
                    reason: format!(
                        "no column {want:?}: expected the Connection table of `netcap label` (Connection_labeled.csv or .parquet) of records of this netcap version"
                    ),
                });
            }
        }
    }
    let label = find("label").ok_or_else(|| DatasetError::Format {
        path: path.to_path_buf(),
        reason: "no column \"label\": expected the output of `netcap label`".into(),
    })?;
    Ok((positions, label))
}

fn push_row(
    data: &mut Dataset,
    cells: impl Fn(usize) -> Option<String>,
    positions: &[usize],
    label_col: usize,
    normal: &str,
    path: &Path,
    line: u64,
) -> Result<(), DatasetError> {
    let mut c = Connection::default();
    for (i, &p) in positions.iter().enumerate() {
        let text = cells(p).unwrap_or_default();
        set_field(&mut c, i, &text).map_err(|reason| DatasetError::Value {
            path: path.to_path_buf(),
            line,
            column: COLUMNS[i].to_string(),
            reason,
        })?;
    }
    let label = cells(label_col).unwrap_or_default();
    data.rows.push(netwatcher_features(&c));
    data.classes.push(u8::from(label != normal));
    data.labels.push(label);
    Ok(())
}

fn read_csv(path: &Path, normal: &str) -> Result<Dataset, DatasetError> {
    let io = |source| DatasetError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
    let format = |e: csv::Error| DatasetError::Format { path: path.to_path_buf(), reason: e.to_string() };
    let names: Vec<String> = reader.headers().map_err(format)?.iter().map(str::to_string).collect();
    let (positions, label_col) = column_positions(&names, path)?;
    let mut data = Dataset::default();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    while reader.read_record(&mut record).map_err(format)? {
        line += 1;
        let r = &record;
        push_row(&mut data, |i| r.get(i).map(str::to_string), &positions, label_col, normal, path, line)?;
    }
    Ok(data)
}

fn read_parquet(path: &Path, normal: &str) -> Result<Dataset, DatasetError> {
    let io = |source| DatasetError::Io { path: path.to_path_buf(), source };
    let format = |reason: String| DatasetError::Format { path: path.to_path_buf(), reason };
    let file = std::fs::File::open(path).map_err(io)?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format(e.to_string()))?;
    let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let (positions, label_col) = column_positions(&names, path)?;
    let reader = builder.build().map_err(|e| format(e.to_string()))?;
    let mut data = Dataset::default();
    let mut line = 0u64;
    for batch in reader {
        let batch: RecordBatch = batch.map_err(|e| format(e.to_string()))?;
        for row in 0..batch.num_rows() {
            line += 1;
            push_row(
                &mut data,
                |col| batch.columns().get(col).and_then(|a| cell_text(a.as_ref(), row)),
                &positions,
                label_col,
                normal,
                path,
                line,
            )?;
        }
    }
    Ok(data)
}

/// One cell as dump's CSV text would have it (None for null or a type
/// the features do not use).
fn cell_text(a: &dyn Array, row: usize) -> Option<String> {
    if row >= a.len() || a.is_null(row) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Int32 => a.as_primitive::<types::Int32Type>().value(row).to_string(),
        DataType::Int64 => a.as_primitive::<types::Int64Type>().value(row).to_string(),
        DataType::UInt32 => a.as_primitive::<types::UInt32Type>().value(row).to_string(),
        DataType::UInt64 => a.as_primitive::<types::UInt64Type>().value(row).to_string(),
        DataType::Float32 => a.as_primitive::<types::Float32Type>().value(row).to_string(),
        DataType::Float64 => a.as_primitive::<types::Float64Type>().value(row).to_string(),
        DataType::Utf8 => a.as_string::<i32>().value(row).to_string(),
        DataType::Boolean => a.as_boolean().value(row).to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        let mut cols: Vec<&str> = vec!["timestamp_ns"];
        cols.extend(COLUMNS);
        cols.push("label");
        cols.join(",")
    }

    #[test]
    fn reads_a_labelled_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Connection_labeled.csv");
        let mut row: Vec<String> = vec!["1".into(), "TCP".into()];
        row.extend((1..COLUMNS.len()).map(|i| if i == 27 { String::new() } else { "2".into() }));
        let mut text = header() + "\n" + &row.join(",") + ",normal\n";
        row[1] = "UDP".into();
        text += &(row.join(",") + ",Port Scan\n");
        std::fs::write(&path, text).unwrap();
        let d = read_labelled(dir.path(), "normal").unwrap();
        assert_eq!(d.classes, vec![0, 1]);
        assert_eq!(d.labels, vec!["normal", "Port Scan"]);
        // duration 2 ns, 2 packets; TCP window scale 2 on the server side.
        assert_eq!(d.rows[0][0], 2e-9);
        assert_eq!(d.rows[0][24], 4.0);
        assert_eq!(d.rows[0][32], 1.0);
        assert_eq!(d.rows[1][24], 0.0);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let e = read_labelled(&path, "normal").unwrap_err().to_string();
        assert!(e.contains("no column \"ip_protocol\""), "{e}");
        let mut row: Vec<String> = vec!["1".into(), "TCP".into()];
        row.extend((1..COLUMNS.len()).map(|_| "x".to_string()));
        std::fs::write(&path, header() + "\n" + &row.join(",") + ",normal\n").unwrap();
        let e = read_labelled(&path, "normal").unwrap_err().to_string();
        assert!(e.contains("line 2: column duration_ns"), "{e}");
        let e = read_labelled(&dir.path().join("missing.csv"), "normal").unwrap_err().to_string();
        assert!(e.contains("missing.csv"), "{e}");
    }
}
