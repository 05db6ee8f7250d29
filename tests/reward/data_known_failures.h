// OlympiadBench reference solutions that do not verify against their gold
// answer in the solution mode (tests/reward/test_reward_data.c asserts that
// exactly these fail, and their count): "ID" is a row's first solution,
// "ID.K" its K-th. Reviewed by hand (docs/reward.md, "The final statement");
// by where the first math span or number equal to the gold appears they are:
//  - stated near the start (the first 400 bytes) without a recognisable
//    answer form, then a proof (32: "in 2 but not fewer moves", "exists for
//    $n=1,2,3,4$ and no other $n$", "thus $a=\frac{1}{4}$ and $x=\sqrt{2}$");
//  - stated in the middle, the final statement being another quantity (29: a
//    check, a bound like "C <= 506" standing for the maximum, one element of
//    a list, "100 such integers less than or equal to 300");
//  - never written as such (95: a second proof of a bound only, golds split
//    over sentences or listing all permutations, one case of several).
// Across them, 9 end on a bound standing for the extremum and 22 on one part
// of a multi-part gold.
// Regenerate after a change of the rules and review the diff:
// SHOW_FAILURES=1 GRPO_SHARED=../shared build/tests/reward/test_reward_data
// prints the list and its count in this form (then clang-format this file).
#pragma once

#define OLYMPIADBENCH_N_KNOWN_FAILURES 156
#define OLYMPIADBENCH_KNOWN_FAILURES                                                               \
    " 1606 1614.1 1614.2 1641.1 1644.1 1662 1662.1 1675 1687 1694 1694.1 1697 1697.1 1709 "        \
    " 1718 1723 1723.1 1724 1737 1738 1760 1760.1 1775 1775.1 1775.2 1782 1789 1800 1807 1810 "    \
    " 1810.1 1828 1828.1 1832 1833 1834 1834.1 1872 1873 1874 1879 1882 1883 1887 1914.3 1918 "    \
    " 1920 1929.1 1930 1930.1 1930.2 1930.3 1938 1938.1 1938.2 1939.1 1940 1953 1953.1 1953.2 "    \
    " 1962 1962.1 1964 1964.1 1965 1968 1969 1970 1974 1977 1977.1 1988.1 1997 1998.1 2000 "       \
    " 2004 2006 2011 2012 2021 2022 2024 2024.1 2032 2032.1 2035 2035.1 2040.1 2045 2063 "         \
    " 2063.1 2063.2 2064.1 2075 2075.2 2082 2099.1 2111 2111.1 2151 2153 2177.1 2177.2 2193 "      \
    " 2193.1 2203.1 2203.4 2204.1 2204.2 2216 2235 2268 2277 2287 2298 2318 2346 2356 2369 "       \
    " 2382 2419 2432 2441 2441.1 2466 2472 2472.1 2472.2 2489 2490 2498 2500 2500.1 2500.2 "       \
    " 2501 2509 2570 2570.1 2574.1 2613.1 2626 2680 2711 2753 2754 2761 2771 2771.1 2827.1 "       \
    " 2849.2 2852.1 2948.2 2960 2996 3039 3101 "
