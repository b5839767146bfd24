//! Parquet sales files: the long format's columns (date, store_id,
//! product_id, sales, extras) read row by row and handed to the CSV loader
//! as CSV text, so that a Parquet file passes exactly the same checks and
//! errors. Rows are numbered as the lines of that CSV would be: the header
//! is line 1, the file's first row line 2.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use parquet::basic::{LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::path::Path;

/// Whether `path` names a Parquet file (by its extension).
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// The file's rows as long-format CSV text.
pub fn parquet_as_csv(path: &Path) -> Result<Vec<u8>> {
    let file = path.display().to_string();
    let reader = SerializedFileReader::try_from(path)
        .with_context(|| format!("{file}: not a readable Parquet file"))?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    // the row reader gives nanosecond timestamps (pandas' dates) as bare
    // integers: the schema says which columns hold them
    let nanos: Vec<bool> = (0..schema.num_columns())
        .map(|c| {
            matches!(
                schema.column(c).logical_type_ref(),
                Some(LogicalType::Timestamp(t)) if matches!(t.unit, TimeUnit::NANOS)
            )
        })
        .collect();
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    out.write_record(&names)?;
    let rows = reader
        .get_row_iter(None)
        .with_context(|| format!("{file}: cannot read its rows"))?;
    for (i, row) in rows.enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{file}:{line}: cannot read this row"))?;
        let mut cells = Vec::with_capacity(names.len());
        for (c, (name, field)) in row.get_column_iter().enumerate() {
            let cell = match field {
                Field::Long(ns) if nanos.get(c) == Some(&true) => {
                    day(ns.div_euclid(86_400_000_000_000))
                }
                field => text(field),
            };
            cells.push(cell.with_context(|| format!("{file}:{line}: column {name:?}"))?);
        }
        out.write_record(&cells)?;
    }
    Ok(out.into_inner()?)
}

/// Day `days` after 1970-01-01 as YYYY-MM-DD.
fn day(days: i64) -> Result<String> {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days)))
        .map(|d| d.to_string())
        .context("a date out of range")
}

/// A cell as the CSV loader reads it: dates as YYYY-MM-DD, flags as 0/1.
fn text(field: &Field) -> Result<String> {
    Ok(match field {
        Field::Null => String::new(),
        Field::Bool(b) => u8::from(*b).to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float16(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        Field::Str(s) => s.clone(),
        Field::Bytes(b) => String::from_utf8_lossy(b.data()).into_owned(),
        Field::Date(d) => day(*d as i64)?,
        Field::Decimal(d) => decimal_text(d)?,
        // a day's timestamp (pandas writes dates so): its date, in UTC (a
        // zone-aware column stores UTC instants: convert to dates first)
        Field::TimestampMillis(ms) => day(ms.div_euclid(86_400_000))?,
        Field::TimestampMicros(us) => day(us.div_euclid(86_400_000_000))?,
        other => bail!(
            "{other} is not a date, an id or a number; write it as a string, date or double column"
        ),
    })
}

/// A DECIMAL (Spark's and databases' money columns) as plain decimal text:
/// the unscaled big-endian two's-complement integer, `scale` digits after
/// the point.
fn decimal_text(d: &parquet::data_type::Decimal) -> Result<String> {
    let bytes = d.data();
    if bytes.is_empty() || bytes.len() > 16 {
        bail!(
            "a DECIMAL of {} bytes is out of range; cast it to double",
            bytes.len()
        );
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    let unscaled = i128::from_be_bytes(wide);
    let scale = usize::try_from(d.scale()).context("a DECIMAL with a negative scale")?;
    let digits = unscaled.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    Ok(if scale == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::data_type::Decimal;

    #[test]
    fn decimals_read_as_their_digits() {
        let cases = [
            (Decimal::from_i32(-1250, 5, 2), "-12.50"),
            (Decimal::from_i32(7, 5, 3), "0.007"),
            (Decimal::from_i64(1234, 10, 0), "1234"),
            (Decimal::from_i64(-5, 10, 1), "-0.5"),
        ];
        for (d, want) in cases {
            assert_eq!(decimal_text(&d).unwrap(), want);
        }
    }
}
