"""Domain rules of Think Twice: content model, judging, scoring. No Qt, no SQL."""
