// connections.csv: one row per connection of the table, in id order (docs/traces.md).
// The columns are declared once, here; the header, each row and the library's view of
// a row (shakedown::ConnectionRecord) all come from the same list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controller/connection_table.h"
#include "controller/event_log.h"

namespace shakedown::controller {

// Every column's name, in order.
const std::vector<std::string>& connection_columns();
// A row's fields, in the order of connection_columns(); empty for what did not happen.
std::vector<std::string> connection_fields(const ConnectionRow& c, const TraceNames& names);
// Writes the whole file under a temporary name and renames it into place. Throws
// std::runtime_error on a write error.
void write_connections_csv(const std::string& path, const std::vector<ConnectionRow>& rows, const TraceNames& names);

}  // namespace shakedown::controller
