"""Lead scoring helpers outside dbt: the evaluation against the sandbox truth."""
