//! The history CSV the browser (or Node) hands to a forecaster: a `date`
//! column and the model's data columns, one row a day.

use super::fields::{csv_reader, parse_date, parse_value};
use super::{FeatureError, Series};

/// Which series of a long CSV (with `store_id` / `product_id` columns) to
/// read; `None` for a column the CSV must then hold one value of.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeriesPick<'a> {
    pub store: Option<&'a str>,
    pub product: Option<&'a str>,
}

/// An id column of a long CSV: where it is, what it names, the value
/// picked (if any) and the values seen.
struct IdColumn<'a> {
    index: usize,
    what: &'static str,
    wanted: Option<&'a str>,
    seen: Vec<String>,
}

/// History handed to a forecaster, as CSV text.
impl Series {
    /// Parses history CSV text: a header with `date` and the feature columns.
    pub fn from_csv(text: &str) -> Result<Series, FeatureError> {
        Series::from_csv_picking(text, SeriesPick::default())
    }

    /// [`Series::from_csv`] on a CSV that may hold `store_id` / `product_id`
    /// columns (the trainer's long format): only the rows of the picked
    /// series are read; a CSV holding several stores or products needs a pick.
    pub fn from_csv_picking(text: &str, pick: SeriesPick) -> Result<Series, FeatureError> {
        let err = |m: String| FeatureError::History(m);
        if text.trim().is_empty() {
            return Err(err(
                "the CSV is empty: give a header line (date,sales,...) and one row per day".into(),
            ));
        }
        let mut reader = csv_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| err(format!("cannot read the CSV header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let date_col = header
            .iter()
            .position(|h| h == "date")
            .ok_or_else(|| err("the CSV header has no 'date' column".into()))?;
        // the trainer's long format names its series in these text columns
        let id_columns = [
            ("store_id", "store", pick.store),
            ("product_id", "product", pick.product),
        ];
        let mut ids: Vec<IdColumn> = id_columns
            .into_iter()
            .filter_map(|(name, what, wanted)| {
                let index = header.iter().position(|h| h == name)?;
                Some(IdColumn {
                    index,
                    what,
                    wanted,
                    seen: Vec::new(),
                })
            })
            .collect();
        let skip = |j: usize| j == date_col || ids.iter().any(|id| id.index == j);
        let columns: Vec<String> = header
            .iter()
            .enumerate()
            .filter(|(j, _)| !skip(*j))
            .map(|(_, h)| h.clone())
            .collect();
        let value_cols: Vec<usize> = (0..header.len()).filter(|j| !skip(*j)).collect();
        let mut dates = Vec::new();
        let mut values = vec![Vec::new(); columns.len()];
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| err(format!("line {line}: {e}")))?;
            if record.len() != header.len() {
                return Err(err(format!(
                    "line {line}: expected {} fields, found {}",
                    header.len(),
                    record.len()
                )));
            }
            let mut wanted = true;
            for id in ids.iter_mut() {
                let value = &record[id.index];
                if !id.seen.iter().any(|s| s == value) {
                    id.seen.push(value.to_string());
                }
                wanted &= id.wanted.is_none_or(|w| w == value);
            }
            if !wanted {
                continue;
            }
            let date = parse_date(&record[date_col])
                .map_err(|m| err(format!("line {line}, column 'date': {m}")))?;
            dates.push(date);
            for (c, &j) in value_cols.iter().enumerate() {
                values[c].push(
                    parse_value(&columns[c], &record[j])
                        .map_err(|m| err(format!("line {line}, column {:?}: {m}", columns[c])))?,
                );
            }
        }
        for IdColumn {
            what, wanted, seen, ..
        } in &ids
        {
            let known = seen.join(", ");
            match wanted {
                Some(w) if !seen.iter().any(|s| s == w) => {
                    return Err(err(format!(
                        "no rows for {what} {w:?}; the CSV holds {what}s {known}"
                    )));
                }
                None if seen.len() > 1 => {
                    return Err(err(format!(
                        "the CSV holds several {what}s ({known}); pick one (the {what} attribute or option)"
                    )));
                }
                _ => {}
            }
        }
        Ok(Series {
            label: "history".into(),
            dates,
            columns,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_csv_reads_dates_and_columns() {
        let s = Series::from_csv("sales,date, price\n1,2024-01-01,3\n2,2024-01-02,4\n").unwrap();
        assert_eq!(s.label, "history");
        assert_eq!(s.columns, ["sales", "price"]);
        assert_eq!(
            s.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2024-01-01", "2024-01-02"]
        );
        assert_eq!(s.values, [vec![1.0, 2.0], vec![3.0, 4.0]]);
    }

    #[test]
    fn history_csv_errors_name_line_and_column() {
        let bad = Series::from_csv("date,sales\n2024-01-01,abc\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "history: line 2, column \"sales\": \"abc\" is not a number"
        );
        let cases = [
            ("sales\n1\n", "history: the CSV header has no 'date' column"),
            (
                " \n\n",
                "history: the CSV is empty: give a header line (date,sales,...) and one row per day",
            ),
            (
                "date,sales\n2024-01-01,1\n2024-13-01,2\n",
                "history: line 3, column 'date': \"2024-13-01\" is not a YYYY-MM-DD date",
            ),
            (
                "date,sales\n2024-01-01,NaN\n",
                "history: line 2, column \"sales\": \"NaN\" is not a finite number",
            ),
        ];
        for (csv, expected) in cases {
            assert_eq!(Series::from_csv(csv).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn negative_sales_are_refused_where_they_are() {
        let bad = Series::from_csv("date,sales\n2024-01-01,3\n2024-01-02,-1\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "history: line 3, column \"sales\": -1 is negative; sales must be zero or more"
        );
    }

    #[test]
    fn a_long_csv_is_read_for_the_picked_series() {
        let csv = "date,store_id,product_id,sales\n\
                   2024-01-01,S1,P1,1\n2024-01-01,S2,P1,10\n\
                   2024-01-02,S1,P1,2\n2024-01-02,S2,P1,20\n";
        let pick = SeriesPick {
            store: Some("S2"),
            product: None,
        };
        let s = Series::from_csv_picking(csv, pick).unwrap();
        assert_eq!(s.columns, ["sales"]);
        assert_eq!(s.values, [vec![10.0, 20.0]]);
        assert_eq!(s.dates.len(), 2);
        assert_eq!(
            Series::from_csv(csv).unwrap_err().to_string(),
            "history: the CSV holds several stores (S1, S2); pick one (the store attribute or option)"
        );
        let missing = SeriesPick {
            store: Some("S9"),
            product: None,
        };
        assert_eq!(
            Series::from_csv_picking(csv, missing)
                .unwrap_err()
                .to_string(),
            "history: no rows for store \"S9\"; the CSV holds stores S1, S2"
        );
    }
}
