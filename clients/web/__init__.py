"""The dispatcher's web console (issue #14): docs/web-console.md."""
