#include <gtest/gtest.h>

#include "gsdk/config_file.h"

TEST(ConfigFile, ParsesKeyValueCommentsAndQuotes) {
    auto cfg = gsdk::ConfigFile::parse("# comment\nA=1\n  B = \"two words\" \nC='x'\n\nD=\n");
    EXPECT_EQ(cfg.get("A"), "1");
    EXPECT_EQ(cfg.get("B"), "two words");
    EXPECT_EQ(cfg.get("C"), "x");
    EXPECT_EQ(cfg.get("D"), "");
    EXPECT_FALSE(cfg.get("E"));
    EXPECT_TRUE(cfg.problems().empty());
}

TEST(ConfigFile, MalformedLinesAreReportedWithTheirNumber) {
    auto cfg = gsdk::ConfigFile::parse("A=1\nnot a setting\n=3\n", "x.conf");
    ASSERT_EQ(cfg.problems().size(), 2u);
    EXPECT_NE(cfg.problems()[0].find("x.conf:2"), std::string::npos);
    EXPECT_NE(cfg.problems()[1].find("x.conf:3"), std::string::npos);
}

TEST(ConfigFile, IntegersOutOfRangeFallBackAndAreReported) {
    auto cfg = gsdk::ConfigFile::parse("N=50\nM=abc\nO=7\n", "y.conf");
    EXPECT_EQ(cfg.get_int("N", 1000, 100, 5000), 1000);
    EXPECT_EQ(cfg.get_int("M", 3, 0, 10), 3);
    EXPECT_EQ(cfg.get_int("O", 3, 0, 10), 7);
    EXPECT_EQ(cfg.get_int("P", 9, 0, 10), 9);
    ASSERT_EQ(cfg.problems().size(), 2u);
    EXPECT_NE(cfg.problems()[0].find("N=50"), std::string::npos);
}
