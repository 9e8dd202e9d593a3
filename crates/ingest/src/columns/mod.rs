//! Schema-evolution column policy: decides which new columns of tabular data may reach analytics.
