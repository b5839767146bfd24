//! Every CSV rule (ARCHITECTURE.md, Data) has a bad file whose error names the line and
//! column.

const HEAD: &str = "date,store_id,product_id,sales,price\n";

fn inspect_error(body: &str) -> String {
    let dir = crate::dir();
    let path = dir.create("bad.csv", body);
    let err = dir.cmd().args(["data", "inspect"]).arg(&path).fails();
    assert!(err.contains("bad.csv"), "error should name the file: {err}");
    err
}

#[test]
fn missing_column() {
    let err = inspect_error("date,store_id,sales\n2024-01-01,S1,3\n");
    assert!(
        err.contains("bad.csv:1: missing column \"product_id\""),
        "{err}"
    );
}

#[test]
fn unparsable_date() {
    let err = inspect_error(&format!(
        "{HEAD}2024-01-01,S1,P1,3,1.0\n2024-13-01,S1,P1,3,1.0\n"
    ));
    assert!(
        err.contains("bad.csv:3: column \"date\": \"2024-13-01\" is not a YYYY-MM-DD date"),
        "{err}"
    );
}

#[test]
fn unparsable_number() {
    let err = inspect_error(&format!("{HEAD}2024-01-01,S1,P1,3,abc\n"));
    assert!(
        err.contains("bad.csv:2: column \"price\": \"abc\" is not a number"),
        "{err}"
    );
}

#[test]
fn nan_and_inf() {
    let err = inspect_error(&format!("{HEAD}2024-01-01,S1,P1,NaN,1\n"));
    assert!(
        err.contains("bad.csv:2: column \"sales\": \"NaN\" is not a finite number"),
        "{err}"
    );
    let err = inspect_error(&format!("{HEAD}2024-01-01,S1,P1,1,inf\n"));
    assert!(
        err.contains("bad.csv:2: column \"price\": \"inf\" is not a finite number"),
        "{err}"
    );
}

#[test]
fn negative_sales() {
    let err = inspect_error(&format!(
        "{HEAD}2024-01-01,S1,P1,1,1\n2024-01-02,S1,P1,-2,1\n"
    ));
    assert!(
        err.contains("bad.csv:3: column \"sales\": -2 is negative"),
        "{err}"
    );
}

#[test]
fn duplicate_rows() {
    let err = inspect_error(&format!(
        "{HEAD}2024-01-01,S1,P1,1,1\n2024-01-02,S1,P1,2,1\n2024-01-01,S1,P1,5,1\n"
    ));
    assert!(err.contains("bad.csv:4: duplicate row for date 2024-01-01, store \"S1\", product \"P1\" (first at line 2)"), "{err}");
}

#[test]
fn ragged_row_and_empty_file() {
    let err = inspect_error(&format!("{HEAD}2024-01-01,S1,P1,1\n"));
    assert!(err.contains("bad.csv:2:"), "{err}");
    let err = inspect_error("");
    assert!(err.contains("bad.csv"), "{err}");
}

#[test]
fn unknown_feature_column() {
    let dir = crate::dir();
    let data = dir.small_data(60);
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&data)
        .args([
            "--mode",
            "product",
            "--product",
            "P001",
            "--features",
            "price,humidity",
        ])
        .fails();
    assert!(
        err.contains("data.csv:1: unknown feature column \"humidity\""),
        "{err}"
    );
}

#[test]
fn gaps_with_fill_error() {
    let dir = crate::dir();
    let mut body = String::from(HEAD);
    for d in 1..=28 {
        if d != 10 {
            body.push_str(&format!("2024-02-{d:02},S1,P1,{d},1\n"));
        }
    }
    let path = dir.create("gappy.csv", &body);
    let err = dir
        .cmd()
        .args(["train", "--data"])
        .arg(&path)
        .args([
            "--mode",
            "product",
            "--product",
            "P1",
            "--window",
            "7",
            "--fill",
            "error",
        ])
        .fails();
    assert!(
        err.contains("dates 2024-02-10 to 2024-02-10 are missing"),
        "{err}"
    );
    let inspect = dir.cmd().args(["data", "inspect"]).arg(&path).ok();
    assert!(
        inspect.contains("gaps      1 series miss 1 days in all"),
        "{inspect}"
    );
}
