#include "metrics/command_names.hpp"

#include "commands/command_table.hpp"

namespace slotgate::metrics {

size_t other_command() {
  return commands::command_count();
}

size_t command_slots() {
  return commands::command_count() + 1;
}

size_t command_index(std::string_view name) {
  const commands::CommandSpec* spec = commands::find_full(name);
  return spec != nullptr ? spec->metrics_index : other_command();
}

std::string_view command_label(size_t index) {
  return index < commands::command_count() ? commands::all_commands()[index].name
                                           : std::string_view("other");
}

}  // namespace slotgate::metrics
