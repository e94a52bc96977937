// A C++ program with much inlined library code (regex, containers, algorithms, streams over several element types),
// built with g++ -O2 -g by bench/lines.bench.ts: a large binary whose DWARF has deep inline chains.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

template <typename T>
T make(int i) {
  if constexpr (std::is_same_v<T, std::string>) return std::to_string(i * 7919 % 1000);
  else return static_cast<T>(i * 7919 % 1000);
}

template <typename T>
long work(int n) {
  std::vector<T> v;
  for (int i = 0; i < n; i++) v.push_back(make<T>(i));
  std::sort(v.begin(), v.end());
  std::stable_sort(v.rbegin(), v.rend());
  std::map<T, int> m;
  std::unordered_map<T, int> u;
  std::set<T> s(v.begin(), v.end());
  std::deque<T> d(v.begin(), v.end());
  std::list<T> l(v.begin(), v.end());
  l.sort();
  l.unique();
  for (const T& x : v) m[x]++, u[x] += 2;
  std::ostringstream os;
  for (auto& [k, c] : m) os << k << ':' << c << ' ';
  auto it = std::lower_bound(v.begin(), v.end(), make<T>(n / 2));
  std::nth_element(v.begin(), v.begin() + v.size() / 3, v.end());
  std::function<bool(const T&, const T&)> cmp = [](const T& a, const T& b) { return b < a; };
  std::make_heap(v.begin(), v.end(), cmp);
  std::sort_heap(v.begin(), v.end(), cmp);
  return static_cast<long>(os.str().size() + m.size() + u.size() + s.size() + d.size() + l.size() + (it - v.begin()));
}

long patterns(const std::string& text) {
  long n = 0;
  for (const char* p : {"[a-z]+[0-9]*", "(\\d+):(\\d+)", "^\\s*(\\w+)\\s*=\\s*(.*)$", "a|b|c+d?"}) {
    std::regex re(p);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) n += it->length();
    n += std::regex_replace(text, re, "<$&>").size();
  }
  return n;
}

int main(int argc, char** argv) {
  int n = 1000 * argc;
  long r = work<int>(n) + work<long>(n) + work<double>(n) + work<float>(n) + work<short>(n) + work<unsigned>(n) +
           work<std::string>(n) + work<char>(n) + work<unsigned long>(n) + work<long double>(n);
  r += patterns(argc > 1 ? argv[1] : "x1 = 12:34 abc9 d cd");
  std::printf("%ld\n", r);
  return 0;
}
