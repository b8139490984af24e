"""Knowledge graphs: reading files, the relation graph InGram builds, edits, neighbourhoods."""
