// admin::stats_json(): metric families as one JSON document for the status page —
//   {"unix_ms":..,"families":{"slotgate_commands_total":{"type":"counter","series":[
//     {"labels":{"command":"get","result":"ok"},"value":12}]},
//    "slotgate_command_duration_seconds":{"type":"histogram","series":[{"labels":{..},
//     "count":12,"sum":0.01,"buckets":[[0.0001,3],...,["+Inf",12]]}]}}}
// Bucket counts are cumulative, as in Prometheus. Values that are not finite are null.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace slotgate::admin {

std::string stats_json(const std::vector<prometheus::MetricFamily>& families, int64_t unix_ms);
std::string stats_json(const std::vector<prometheus::MetricFamily>& families);  // now

}  // namespace slotgate::admin
