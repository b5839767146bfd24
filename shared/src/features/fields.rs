//! The per-field rules of every CSV file shoptrain reads: the trainer's
//! long-format data file and the history text the browser (or Node) hands to
//! a forecaster both go through these, so they read fields alike. Each
//! parser puts its own location (file and line, column) before the message.

use chrono::NaiveDate;

/// The one date format of every CSV date field.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// A CSV reader in the dialect every parser reads: comma separated, a header
/// first, whitespace around each field trimmed.
pub fn csv_reader<R: std::io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// Parses a YYYY-MM-DD date.
pub fn parse_date(field: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(field, DATE_FORMAT)
        .map_err(|_| format!("{field:?} is not a YYYY-MM-DD date"))
}

/// Parses a number, refusing NaN and infinities.
pub fn parse_number(field: &str) -> Result<f64, String> {
    let v: f64 = field
        .parse()
        .map_err(|_| format!("{field:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{field:?} is not a finite number"));
    }
    Ok(v)
}

/// Parses a value of data column `column`: a finite number, and for the
/// sales column zero or more (sales are units sold; a return is not a sale).
pub fn parse_value(column: &str, field: &str) -> Result<f64, String> {
    let v = parse_number(field)?;
    if column == super::TARGET && v < 0.0 {
        return Err(format!("{v} is negative; sales must be zero or more"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yyyy_mm_dd_only() {
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        for bad in ["2024-13-01", "2023-02-29", "01/02/2024", "2024-1-1x", ""] {
            assert_eq!(
                parse_date(bad).unwrap_err(),
                format!("{bad:?} is not a YYYY-MM-DD date")
            );
        }
    }

    #[test]
    fn numbers_must_be_finite() {
        assert_eq!(parse_number("2.5"), Ok(2.5));
        assert_eq!(parse_number("-3"), Ok(-3.0));
        assert_eq!(parse_number("abc").unwrap_err(), "\"abc\" is not a number");
        assert_eq!(parse_number("").unwrap_err(), "\"\" is not a number");
        for bad in ["NaN", "inf", "-inf"] {
            assert_eq!(
                parse_number(bad).unwrap_err(),
                format!("{bad:?} is not a finite number")
            );
        }
    }

    #[test]
    fn fields_are_trimmed() {
        let mut reader = csv_reader(" date , sales \n 2024-01-01 ,  4 \n".as_bytes());
        assert_eq!(reader.headers().unwrap(), vec!["date", "sales"]);
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(parse_date(&record[0]).unwrap().to_string(), "2024-01-01");
        assert_eq!(parse_number(&record[1]), Ok(4.0));
    }

    #[test]
    fn sales_are_never_negative_other_columns_may_be() {
        assert_eq!(parse_value("sales", "0"), Ok(0.0));
        assert_eq!(
            parse_value("sales", "-2").unwrap_err(),
            "-2 is negative; sales must be zero or more"
        );
        assert_eq!(parse_value("temperature", "-2"), Ok(-2.0));
        assert_eq!(
            parse_value("sales", "x").unwrap_err(),
            "\"x\" is not a number"
        );
    }
}
