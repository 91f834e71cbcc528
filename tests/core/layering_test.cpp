// The module layering of src/README.md, checked against the source tree: src/CMakeLists.txt
// declares each module of the core with the modules it may include, and every file of a module
// must keep to that, so that a wrong-way include fails here even where the linker would not
// notice (a header-only use).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Module {
  bool libtorch = false;
  std::set<std::string> depends;
  std::set<std::string> sources;
};

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const fs::path root = INKGEN_TEST_SOURCE_DIR;

// inkgen_module(NAME [LIBTORCH] [DEPENDS ...] [LINKS ...] SOURCES ...) calls, in order.
std::vector<std::pair<std::string, Module>> declared_modules() {
  const auto text = read(root / "src" / "CMakeLists.txt");
  const std::regex call(R"(\ninkgen_module\(([^)]*)\))");
  std::vector<std::pair<std::string, Module>> modules;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator();
       ++it) {
    std::istringstream words((*it)[1].str());
    std::string name, word, section;
    words >> name;
    Module module;
    while (words >> word) {
      if (word == "LIBTORCH") {
        module.libtorch = true;
      } else if (word == "DEPENDS" || word == "LINKS" || word == "SOURCES") {
        section = word;
      } else if (section == "DEPENDS") {
        module.depends.insert(word);
      } else if (section == "SOURCES") {
        module.sources.insert(word);
      }
    }
    modules.emplace_back(name, module);
  }
  return modules;
}

std::vector<fs::path> files_of(const fs::path& folder) {
  std::vector<fs::path> files;
  if (fs::is_directory(folder)) {
    for (const auto& entry : fs::directory_iterator(folder))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

std::set<std::string> folders_of(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_directory()) names.insert(entry.path().filename().string());
  return names;
}

}  // namespace

TEST(Layering, ModulesAreDeclaredBottomUpAndMirrored) {
  const auto modules = declared_modules();
  ASSERT_GE(modules.size(), 5u) << "no inkgen_module(...) calls found in src/CMakeLists.txt";
  std::set<std::string> seen;
  for (const auto& [name, module] : modules) {
    for (const auto& dependency : module.depends)
      EXPECT_TRUE(seen.count(dependency))
          << name << " depends on " << dependency << ", which is not declared before it";
    seen.insert(name);
    EXPECT_TRUE(fs::is_directory(root / "include" / "inkgen" / name)) << name;
    EXPECT_TRUE(fs::is_directory(root / "tests" / "core" / name)) << name;
    std::set<std::string> on_disk;
    for (const auto& file : files_of(root / "src" / "core" / name))
      on_disk.insert(file.filename().string());
    EXPECT_EQ(on_disk, module.sources) << "src/core/" << name << " against its SOURCES";
  }
  // Every folder is a module: nothing lives outside the layering.
  EXPECT_EQ(folders_of(root / "src" / "core"), seen);
  auto headers = folders_of(root / "include" / "inkgen");
  EXPECT_EQ(headers, seen);
  EXPECT_TRUE(files_of(root / "src" / "core").empty()) << "a file directly in src/core";
}

TEST(Layering, EveryIncludeGoesDownward) {
  const std::regex ours(R"(#include\s+"inkgen/(\w+)/)");
  const std::regex libtorch(R"(#include\s+<(torch|ATen)/)");
  for (const auto& [name, module] : declared_modules()) {
    auto files = files_of(root / "src" / "core" / name);
    const auto headers = files_of(root / "include" / "inkgen" / name);
    files.insert(files.end(), headers.begin(), headers.end());
    for (const auto& file : files) {
      const auto text = read(file);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), ours);
           it != std::sregex_iterator(); ++it) {
        const auto target = (*it)[1].str();
        EXPECT_TRUE(target == name || module.depends.count(target))
            << file.lexically_relative(root) << " includes inkgen/" << target << "/, which module "
            << name << " does not depend on";
      }
      if (!module.libtorch) {
        EXPECT_FALSE(std::regex_search(text, libtorch))
            << file.lexically_relative(root) << " includes LibTorch, but module " << name
            << " is LibTorch-free (the fuzzers and the ASan suite build it without LibTorch)";
      }
    }
  }
}
