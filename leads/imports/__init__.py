"""CSV import: files as people have them (`reading`), what their rows mean (`presets`), the
job that writes them a committed chunk at a time (`services`, `chunks`), and its reads
(`selectors`). docs/operations.md, "Importing CSV", says how it behaves."""
