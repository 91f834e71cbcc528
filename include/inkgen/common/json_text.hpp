#pragma once
// JSON as text, for every file and stream inkgen writes. Paths and names on Linux are bytes, not
// UTF-8; nlohmann's plain dump() throws on invalid UTF-8, which would end a run with exit 70 after
// its work is done. Here such bytes become U+FFFD: the record stays readable JSON.
#include <nlohmann/json.hpp>
#include <string>

namespace inkgen {

// indent < 0: one line.
std::string json_text(const nlohmann::json& value, int indent = -1);

// A text as a record written by json_text keeps it (invalid UTF-8 as U+FFFD): what a key read
// back from a manifest is compared with.
std::string recorded_text(const std::string& text);

}  // namespace inkgen
