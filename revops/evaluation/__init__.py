"""The warehouse scored against a sandbox world's ground truth (`revops eval`): identity resolution (`identity`) and
lead scoring (`scoring`), with the email normalization the truth is compared under (`normalize`). Identity and
scoring themselves live in dbt (dbt_project/models/identity, models/decisions)."""
