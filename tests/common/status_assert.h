// Assertions on Status and Result<T> for unit tests: on failure they print the status.
#pragma once

#include <gtest/gtest.h>

#include "common/status.h"

namespace dfs {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace dfs

// Each evaluates expr once.
#define EXPECT_OK(expr) EXPECT_EQ(::dfs::StatusOf(expr).ToString(), "OK")
#define ASSERT_OK(expr) ASSERT_EQ(::dfs::StatusOf(expr).ToString(), "OK")
// The status (of a Status or a Result) has the given code: EXPECT_CODE(r, kNotFound).
#define EXPECT_CODE(expr, want)                                 \
  do {                                                          \
    ::dfs::Status _st = ::dfs::StatusOf(expr);                  \
    EXPECT_EQ(_st.code(), ::dfs::Code::want) << _st.ToString(); \
  } while (0)
#define ASSERT_CODE(expr, want)                                 \
  do {                                                          \
    ::dfs::Status _st = ::dfs::StatusOf(expr);                  \
    ASSERT_EQ(_st.code(), ::dfs::Code::want) << _st.ToString(); \
  } while (0)
