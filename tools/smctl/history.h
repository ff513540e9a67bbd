// What the history commands share (`clue history`, `audit finding history`): the events as a
// table, and an event's data (a JSON object) as "label：text；…".
#pragma once

#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/smctl/output.h"

namespace sm::smctl {

// Labels of event data keys: key -> {zh, en}.
using KeyLabels = std::map<std::string, std::pair<const char*, const char*>>;

// `json` (an event's data) as "label：text；label：text" in `l`: each key labelled through
// `labels` (else shown as it is), each value through `text(key, value)` (nullopt: left out).
// Not a JSON object: `json` as it is.
std::string EventDataText(
    Lang l, const std::string& json, const KeyLabels& labels,
    const std::function<std::optional<std::string>(const std::string& key, const nlohmann::json& value)>& text);

// A history as a table: seq, time (Beijing), event, actor, data. `describe(event)` gives
// the last three.
struct EventCells {
  std::string event;
  std::string actor;
  std::string data;
};
template <typename Events, typename Describe>
void PrintHistory(Lang l, const Events& events, Describe&& describe) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& ev : events) {
    EventCells cells = describe(ev);
    rows.push_back({std::to_string(ev.seq()), BeijingTime(ev.at(), true), std::move(cells.event),
                    std::move(cells.actor), std::move(cells.data)});
  }
  PrintTable(std::cout,
             {T(l, "序号", "seq"), T(l, "时间（北京时间）", "time (Beijing)"), T(l, "事件", "event"),
              T(l, "操作人", "actor"), T(l, "内容", "data")},
             rows);
}

}  // namespace sm::smctl
