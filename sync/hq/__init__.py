"""District headquarters: issuing codes and (later) the server gates sync to."""
