"""Identity resolution helpers outside dbt: the email normalization mirror and the evaluation against truth."""
