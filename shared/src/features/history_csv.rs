//! The history CSV the browser (or Node) hands to a forecaster: a `date`
//! column and the model's data columns, one row a day.

use super::fields::{csv_reader, parse_date, parse_number};
use super::{FeatureError, Series};

/// History handed to a forecaster, as CSV text.
impl Series {
    /// Parses history CSV text: a header with `date` and the feature columns.
    pub fn from_csv(text: &str) -> Result<Series, FeatureError> {
        let err = |m: String| FeatureError::History(m);
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
        let columns: Vec<String> = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != date_col)
            .map(|(_, h)| h.clone())
            .collect();
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
            let date = parse_date(&record[date_col])
                .map_err(|m| err(format!("line {line}, column 'date': {m}")))?;
            dates.push(date);
            let mut c = 0;
            for (j, field) in record.iter().enumerate() {
                if j == date_col {
                    continue;
                }
                values[c].push(
                    parse_number(field)
                        .map_err(|m| err(format!("line {line}, column {:?}: {m}", columns[c])))?,
                );
                c += 1;
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
}
