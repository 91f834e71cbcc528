#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inkgen/error.hpp"
#include "inkgen/ink_model.hpp"
#include "inkgen/ink_score.hpp"
#include "inkgen/optimization.hpp"

namespace inkgen {

// The pieces of run.json, the machine-readable record of a run (README "run.json").
nlohmann::json score_json(const InkScore& score);
nlohmann::json trace_json(const std::vector<InkScore>& trace);
nlohmann::json model_json(const InkModel& model);
// The fixed value scales of a run's pictures, stated so that they can be read back.
nlohmann::json scale_json(const InkModel& model);

// Marks a run.json failed with the error's kind and message, and when.
void record_failure(nlohmann::json& record, const Error& error);

// UTC, ISO 8601, seconds.
std::string utc_now();

}  // namespace inkgen
