// The equivalence rules, one table row per case: (answer, gold, expected).
// Each family of docs/reward.md has positive cases and negatives that must stay
// wrong (1/2 vs 2, x+1 vs x-1, (1,2) vs (2,1), [0,1) vs [0,1], ...). The
// expected verdicts are written by hand from the mathematics, not from runs.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "reward/equiv.h"

struct equiv_case {
    const char *answer, *gold;
    int expected; // 1 equal, 0 different
};

static const struct equiv_case cases[] = {
    // ---- normalisation ----
    {"$18$", "18", 1},
    {"\\(18\\)", "18", 1},
    {"\\[ 18 \\]", "18", 1},
    {"\\left( 1, 2 \\right)", "(1,2)", 1},
    {"\\left\\{1,2\\right\\}", "\\{1,2\\}", 1},
    {"\\frac{1}{2}\\,", "1/2", 1},
    {"3\\;\\text{cm}", "3", 1},
    {"3\\!", "3", 1},
    {"\\quad 7 \\qquad", "7", 1},
    {"\\displaystyle \\frac{1}{2}", "0.5", 1},
    {"5 \\text{ dollars}", "5", 1},
    {"5\\mbox{ apples}", "5", 1},
    {"1.6 \\mathrm{~cm}", "1.6", 1},
    {"4 \\text{ cm}^2", "4", 1},
    {"12 \\mathrm{~m}/\\mathrm{s}", "12", 1},
    {"18 dollars", "18", 1},
    {"\\text{Monday}", "monday", 1},
    {"\\text{Monday}", "Tuesday", 0},
    {"90^\\circ", "90", 1},
    {"90^{\\circ}", "90", 1},
    {"90°", "90", 1},
    {"45^\\circ", "90^\\circ", 0},
    {"7.", "7", 1},
    {"x=3;", "3", 1},
    {"\\dfrac{3}{4}", "\\frac{3}{4}", 1},
    {"\\tfrac34", "0.75", 1},
    {"\\frac12", "\\frac{1}{2}", 1},
    {"\\frac1{2}", "0.5", 1},
    {"\\frac{1}2", "0.5", 1},
    {"1,000", "1000", 1},
    {"1{,}000{,}000", "1000000", 1},
    {"1\\,000", "1000", 1},
    {"12,345.5", "12345.5", 1},
    {"1,000", "100", 0},
    {"x = 5", "5", 1},
    {"x=\\frac{1}{2}", "0.5", 1},
    {"y_1 = 4", "4", 1},
    {"f(x) = x^2", "x^2", 1},
    {"x = 5", "6", 0},
    {"(B)", "B", 1},
    {"B", "(B)", 1},
    {"\\text{(B)}", "B", 1},
    {"\\textbf{(C)}", "C", 1},
    {"(B) 12", "B", 1},
    {"b", "B", 1},
    {"C", "B", 0},
    {"(A)", "B", 0},
    {"12", "B", 0},
    {"−3", "-3", 1},
    {"2 × 3", "6", 1},
    {"\\frac{π}{2}", "\\frac{\\pi}{2}", 1},
    {"\\mathbf{1 0 9 8 9 0}", "109890", 1}, // bold: spaces and braces go (ARML)
    {"\\frac{\\mathbf{7 9}}{\\mathbf{1 2 8}}", "\\frac{79}{128}", 1},
    {"\\mathbf{2 2 . 5}", "\\frac{45}{2}", 1},
    {"\\mathbf{1 0 2 , 0 1 8}", "102018", 1},
    {"(-\\mathbf{2 6 6}, \\mathbf{- 3 , - 2 8})", "(-266,-3,-28)", 1},
    {"\\mathbf{1 0 9}", "19", 0},
    {"10+2 \\sqrt{2} \\text {. }", "10+2\\sqrt{2}", 1},
    {"10+2 \\sqrt{2} \\text {. }", "10+2\\sqrt{3}", 0},
    {"\\text{yes}", "\\text{.}", 0},
    // ---- numbers ----
    {"18", "18", 1},
    {"18.0", "18", 1},
    {"18.00001", "18", 0},
    {"17", "18", 0},
    {"-5", "5", 0},
    {"0.5", "1/2", 1},
    {"1/2", "2", 0},
    {"2", "1/2", 0},
    {"\\frac{2}{4}", "\\frac{1}{2}", 1},
    {"\\frac{1}{3}", "0.3333", 1},
    {"0.3333", "\\frac{1}{3}", 1},
    {"0.33", "\\frac{1}{3}", 0},
    {"2\\frac{1}{2}", "2.5", 1},
    {"2\\frac{1}{2}", "\\frac{5}{2}", 1},
    {"2\\frac12", "2.5", 1},
    {"2\\frac{1}{2}", "1", 0},
    {"-2\\frac{1}{2}", "-2.5", 1},
    {"50\\%", "0.5", 1},
    {"50\\%", "50", 1},
    {"50%", "\\frac{1}{2}", 1},
    {"50", "0.5", 0},
    {"0.5", "50", 0},
    {"25\\%", "0.5", 0},
    {"1.5e3", "1500", 1},
    {"1.5E-3", "0.0015", 1},
    {"1.5 \\times 10^{3}", "1500", 1},
    {"1.5 \\cdot 10^3", "1500", 1},
    {"3 \\times 10^{8}", "3e8", 1},
    {"3 \\times 10^{8}", "3 \\times 10^{9}", 0},
    {"6.02 \\times 10^{23}", "6.022 \\times 10^{23}", 0},
    {"1000.05", "1000", 0},
    {"3.14159", "\\pi", 1},
    {"3.14", "\\pi", 0},
    {"2.88e-19", "1.325e-27", 0},
    {"1.325 \\times 10^{-27}", "1.325e-27", 1},
    {"\\sin(\\pi)", "0", 1},
    {"0", "0.001", 0},
    {"025", "25", 1},
    {"0.1 + 0.2", "0.3", 1},
    {"2^{10}", "1024", 1},
    {"2^10", "1024", 1},
    {"5!", "120", 1},
    {"\\binom{5}{2}", "10", 1},
    {"\\dbinom{10}{3}", "120", 1},
    {"\\binom{5}{2}", "20", 0},
    {"\\infty", "\\infty", 1},
    {"-\\infty", "\\infty", 0},
    // ---- expressions ----
    {"x^2+2x+1", "(x+1)^2", 1},
    {"(x+1)^2", "x^2+2x+1", 1},
    {"x^2+2x", "(x+1)^2", 0},
    {"x+1", "x+2", 0},
    {"x+1", "x-1", 0},
    {"1+x", "x+1", 1},
    {"2x", "2 \\cdot x", 1},
    {"2x", "x \\times 2", 1},
    {"2x", "x^2", 0},
    {"x y", "xy", 1},
    {"a b c", "c b a", 1},
    {"\\frac{x}{2}", "x/2", 1},
    {"\\frac{x}{2}", "2/x", 0},
    {"x \\div 2", "0.5x", 1},
    {"\\frac{x^2-1}{x-1}", "x+1", 1},
    {"\\sqrt{2}", "2^{1/2}", 1},
    {"\\sqrt2", "1.41421", 1},
    {"\\sqrt{8}", "2\\sqrt{2}", 1},
    {"\\sqrt{8}", "3\\sqrt{2}", 0},
    {"\\sqrt[3]{8}", "2", 1},
    {"\\sqrt[3]{-8}", "-2", 1},
    {"\\sqrt[4]{16}", "2", 1},
    {"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", 1},
    {"\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", 1},
    {"\\frac{9 \\sqrt{3}}{20}", "0.7794", 1},
    {"2\\pi", "\\pi \\cdot 2", 1},
    {"2\\pi", "\\pi", 0},
    {"\\pi r^2", "r^2\\pi", 1},
    {"e^{i\\pi}", "-1", 1},
    {"e^2", "\\exp(2)", 1},
    {"\\ln e", "1", 1},
    {"\\ln(x^2)", "2\\ln x", 1},
    {"\\log_2 8", "3", 1},
    {"\\log_{2}{8}", "3", 1},
    {"\\log_3 x", "\\frac{\\ln x}{\\ln 3}", 1},
    {"\\log 100", "2", 1},
    {"\\sin^2 x + \\cos^2 x", "1", 1},
    {"\\sin 2x", "2\\sin x \\cos x", 1},
    {"\\sin(2x)", "2\\sin(x)\\cos(x)", 1},
    {"\\sin x", "\\cos x", 0},
    {"\\tan x", "\\frac{\\sin x}{\\cos x}", 1},
    {"\\sec x", "\\frac{1}{\\cos x}", 1},
    {"\\sin^{-1}(1/2)", "\\arcsin(0.5)", 1},
    {"\\arctan 1", "\\frac{\\pi}{4}", 1},
    {"\\cos\\frac{\\pi}{3}", "\\frac12", 1},
    {"i^2", "-1", 1},
    {"3+2i", "2i+3", 1},
    {"3+2i", "3-2i", 0},
    {"\\frac{1}{i}", "-i", 1},
    {"(1+i)^2", "2i", 1},
    {"\\sqrt{-4}", "2i", 1},
    {"|x|", "x", 0},
    {"|x|", "\\sqrt{x^2}", 1},
    {"|-3|", "3", 1},
    {"\\left|x-1\\right|", "|1-x|", 1},
    {"\\lvert x \\rvert", "|x|", 1},
    {"n!", "n \\cdot (n-1)!", 1},
    {"(n+1)!", "(n+1) n!", 1},
    {"(n+1)!", "n!", 0},
    {"3!", "6", 1},
    {"x^{2}", "x^2", 1},
    {"x^{-1}", "\\frac{1}{x}", 1},
    {"x^{1/2}", "\\sqrt{x}", 1},
    {"\\frac{1}{x+1}", "\\frac{1}{x}+1", 0},
    {"a^2 - b^2", "(a-b)(a+b)", 1},
    {"a^2 + b^2", "(a+b)^2", 0},
    {"2^{n+1}", "2 \\cdot 2^n", 1},
    {"2^{n+1}", "2^n + 1", 0},
    {"\\frac{n(n+1)}{2}", "\\frac{n^2+n}{2}", 1},
    {"\\alpha + \\beta", "\\beta + \\alpha", 1},
    {"\\alpha", "\\beta", 0},
    {"x_1 + x_2", "x_2 + x_1", 1},
    {"x_1", "x_2", 0},
    {"10 - 4n", "-4n+10", 1},
    {"-4(n-5)-10", "10-4n", 1},
    {"e^{x}", "e^{-x}", 0},
    {"\\lfloor \\frac{2n}{3} \\rfloor + 1", "\\left\\lfloor\\frac{2 n}{3}\\right\\rfloor+1", 1},
    {"\\lfloor x \\rfloor", "\\lceil x \\rceil", 0},
    {"\\lfloor 2.7 \\rfloor", "2", 1},
    {"\\rho_{0} r_0^2", "r_{0}^{2}\\rho_0", 1},
    {"\\rho_{0}", "\\rho_{1}", 0},
    {"y^{\\prime} + y", "y + y'", 1},
    {"y'", "y", 0},
    {"-1./3", "-\\frac13", 1},
    {"\\lambda^5 [e^{x}-1]", "\\lambda^{5}(e^x - 1)", 1},
    // ---- structures: tuples, sets, lists ----
    {"(1,2)", "(1,2)", 1},
    {"(1, 2)", "(1,2)", 1},
    {"(1,2)", "(2,1)", 0},
    {"(\\frac12, 3)", "(0.5, 3)", 1},
    {"(1,2,3)", "(1,2)", 0},
    {"(x, y) = (1, 2)", "(1,2)", 1}, // a tuple of names defined by the equation
    {"(x, y) = (2, 1)", "(1,2)", 0},
    {"(x, 1) = (1, 2)", "(1,2)", 0},
    {"(x, y) = (1, 2)", "x = 1", 0},
    {"(1,2,3)", "1, 2, 3", 1}, // three or more: a tuple and a bare list in the same order
    {"1, 2, 3", "(1,2,3)", 1},
    {"(x, y, z) = (1,2,3)", "1, 2, 3", 1},
    {"(1,2,3)", "3, 2, 1", 0},
    {"(1,2)", "1, 2", 0}, // two: the interval (1, 2) is not the answers 1 and 2
    {"[1,2,3]", "1, 2, 3", 0},
    {"\\{1,2,3\\}", "\\{3,2,1\\}", 1},
    {"\\{1,2\\}", "\\{1,2,3\\}", 0},
    {"\\{1, 2\\}", "1, 2", 1},
    {"1, 2", "\\{2, 1\\}", 1},
    {"3, 5", "5, 3", 1},
    {"3, 5", "3", 0},
    {"3", "3, 5", 0},
    {"1, 2 and 3", "1,2,3", 1},
    {"2 \\text{ or } -2", "\\pm 2", 1},
    {"2x = 4", "4", 0},
    {"2x = 4", "2", 0},
    {"\\pm 2", "2, -2", 1},
    {"-2, 2", "\\pm 2", 1},
    {"1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2", 1},
    {"\\pm 2", "2", 0},
    {"(1,1), (3,2)", "(3,2),(1,1)", 1},
    {"(1,1), (3,2)", "(1,1),(2,3)", 0},
    {"\\emptyset", "\\varnothing", 1},
    {"\\langle 1, 2 \\rangle", "\\langle 1,2\\rangle", 1},
    {"\\langle 1, 2 \\rangle", "\\langle 2,1\\rangle", 0},
    {"1, 2, and 3", "\\{1,2,3\\}", 1}, // ", and": one separator
    {"1, 2, and 3", "1,2,,3", 0},
    {"\\sqrt{324-68}=\\sqrt{256}=16", "16", 1}, // a computation stands for its result
    {"\\frac{50}{80}=\\frac{5}{8}", "0.625", 1},
    {"\\sqrt{324-68}=\\sqrt{256}=16", "15", 0},
    {"2+2=5", "5", 0}, // sides that disagree are not a computation
    {"2+2=5", "4", 0},
    {"3x=58", "\\frac{58}{3}", 0},
    // a chain whose first side is not constant: its value, computed
    {"5+4 d=5+4\\left(-\\frac{5}{2}\\right)=-5", "-5", 1},
    {"5+4 d=5+4(-\\frac{5}{2})=-5, 5+4 d=5+4(\\frac{1}{2})=7", "-5, 7", 1},
    {"5+4 d=5+4(-\\frac{5}{2})=-5, 5+4 d=5+4(\\frac{1}{2})=7", "-5, 6", 0},
    {"x+1=2+2=5", "5", 0}, // the middle side disagrees: no computation
    {"x+1=2+2=5", "4", 0},
    {"2+2=5=5", "5", 0}, // a constant first side must agree too
    {"x+1=2+y=5", "5", 0},
    {"3x=58", "58", 0}, // two sides: "3x = 58" is no value of 58
    // a chain of names: "a = b = -2" is the pair (-2, -2)
    {"a=b=-2", "-2, -2", 1},
    {"a=b=-2", "-2", 1},
    {"a=b=-2", "-2, 3", 0},
    {"a=b=-2", "-2, -2, -2", 0},
    {"2a=b=-2", "-2, -2", 0},
    {"a=-2", "-2, -2", 0},
    {"\\frac{4}{10} \\text{ or } \\frac{2}{5}", "\\frac{2}{5}", 1}, // one value twice
    {"\\frac{4}{10}, 3", "\\frac{2}{5}", 0},
    {"2, 2", "2", 1},
    {"2, 3", "2", 0},
    {"x=1, x=2", "1", 0},
    // \pm anywhere, spliced into lists
    {"\\frac{3 \\pm \\sqrt{21}}{2}", "\\frac{3+\\sqrt{21}}{2}, \\frac{3-\\sqrt{21}}{2}", 1},
    {"\\frac{3 \\pm \\sqrt{21}}{2}", "\\frac{3+\\sqrt{21}}{2}, \\frac{3+\\sqrt{21}}{2}", 0},
    {"\\frac{3 \\pm \\sqrt{21}}{2}", "\\frac{3+\\sqrt{21}}{2}", 0},
    {"1, \\frac{3 \\pm \\sqrt{21}}{2}", "\\frac{3-\\sqrt{21}}{2}, 1, \\frac{3+\\sqrt{21}}{2}", 1},
    {"1, \\frac{3 \\pm \\sqrt{21}}{2}", "\\frac{3-\\sqrt{21}}{2}, \\frac{3+\\sqrt{21}}{2}", 0},
    {"x=1, x=\\frac{3 \\pm \\sqrt{21}}{2}", "1, \\frac{3+\\sqrt{21}}{2}, \\frac{3-\\sqrt{21}}{2}",
     1},
    {"\\{1 \\pm \\sqrt{2}\\}", "\\{1+\\sqrt{2}, 1-\\sqrt{2}\\}", 1},
    {"x = 1 \\pm 2", "3, -1", 1},
    {"x = 1 \\pm 2", "3, 1", 0},
    {"1 \\pm 2 \\mp 4", "-1, 3", 1}, // \pm and \mp go together
    {"1 \\pm 2 \\mp 4", "7, -5", 0},
    {"(1 \\pm 1, 2)", "(2, 2), (0, 2)", 1},
    // ---- intervals and unions ----
    {"[0,1)", "[0,1)", 1},
    {"[0,1)", "[0,1]", 0},
    {"x \\in [0,1)", "[0,1)", 1},
    {"x \\in (0,1)", "[0,1)", 0},
    {"x \\le 3", "x \\leq 3", 1},
    {"x \\le 3", "x \\geq 3", 0},
    {"(0,1)", "[0,1]", 0},
    {"(0,1]", "(0,1)", 0},
    {"[0, \\frac{1}{2})", "[0, 0.5)", 1},
    {"(-\\infty, 0)", "(-\\infty,0)", 1},
    {"(-\\infty, 0)", "(0, \\infty)", 0},
    {"(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,0)", 1},
    {"(-\\infty, 0] \\cup (1, \\infty)", "(-\\infty,0)\\cup(1,\\infty)", 0},
    {"(-\\infty,0)∪(1,∞)", "(-\\infty,0)\\cup(1,\\infty)", 1},
    {"(-\\infty, 0)", "(-\\infty,0)\\cup(1,\\infty)", 0},
    // inequalities are intervals
    {"x > 2", "(2, \\infty)", 1},
    {"(2, \\infty)", "x > 2", 1},
    {"x > 2", "[2, \\infty)", 0},
    {"x \\ge 2", "[2, \\infty)", 1},
    {"x \\geq 2", "(2, \\infty)", 0},
    {"x < 2", "(2, \\infty)", 0},
    {"2 < x", "(2, \\infty)", 1},
    {"2 > x", "(-\\infty, 2)", 1},
    {"k<-5", "(-\\infty,-5)", 1},
    {"k<-5", "(-\\infty,5)", 0},
    {"x <= 3", "(-\\infty, 3]", 1},
    {"x \\leqslant 3", "(-\\infty, 3)", 0},
    {"-1 \\le x < 3", "[-1, 3)", 1},
    {"-1 \\le x < 3", "[-1, 3]", 0},
    {"-1 \\le x < 3", "(-1, 3)", 0},
    {"3 > x \\ge -1", "[-1, 3)", 1},
    {"\\frac{1}{2} \\leq x \\leq 8", "[\\frac{1}{2}, 8]", 1},
    {"\\frac{1}{2} \\leq x \\leq 8", "[\\frac{1}{2}, 7]", 0},
    {"x ≥ 0", "[0, \\infty)", 1},
    {"1 < x > 3", "(1, 3)", 0}, // mixed directions: not an interval
    {"1 < 2", "(1, 2)", 0},     // no unknown: not an interval
    {"x < y", "(-\\infty, y)", 0},
    {"x<0 \\text{ or } x>1", "(-\\infty,0)\\cup(1,\\infty)", 1},
    {"(-\\infty,0)\\cup(1,\\infty)", "x < 0 \\text{ or } x > 1", 1},
    {"x<0 \\text{ or } x \\ge 1", "(-\\infty,0)\\cup(1,\\infty)", 0},
    {"x<0 \\text{ or } x>1 \\text{ or } x > 5", "(-\\infty,0)\\cup(1,\\infty)", 0},
    {"(-\\infty,0), (1,\\infty)", "(-\\infty,0)\\cup(1,\\infty)",
     0}, // a list of tuples is no union
    {"x < 0 \\cup x > 1", "(-\\infty,0)\\cup(1,\\infty)", 1},
    {"x \\ne 2", "(-\\infty,2)", 0},
    // set-builder notation
    {"\\{x \\mid x > 2\\}", "(2, \\infty)", 1},
    {"\\{x : x \\ge 2\\}", "[2, \\infty)", 1},
    {"\\{x \\in \\mathbb{R} \\mid -1 \\le x < 3\\}", "[-1, 3)", 1},
    {"\\{x | x > 2\\}", "x > 2", 1},
    {"\\{x \\mid x > 2\\}", "[2, \\infty)", 0},
    {"\\{x \\mid x > 2\\}", "\\{2\\}", 0},
    {"\\{|x|, 2\\}", "\\{2, |x|\\}", 1}, // a bar that is no set-builder
    // ---- equations ----
    {"y = 2x+1", "y=2x+1", 1},
    {"y = 2x+1", "y = 1+2x", 1},
    {"y = 2x+1", "2x - y + 1 = 0", 1},
    {"2y = 4x+2", "y = 2x+1", 1},
    {"y = 2x+1", "y = 2x-1", 0},
    {"y = 2x+1", "y = 3x+1", 0},
    {"x^2+y^2=1", "y^2 + x^2 = 1", 1},
    {"x^2+y^2=1", "x^2+y^2=4", 0},
    {"2x+1", "y=2x+1", 1},
    {"2x-1", "y=2x+1", 0},
    {"x = 2, y = 3", "y=3, x=2", 1},
    {"x = 2, y = 3", "x=3, y=2", 0},
    // ---- matrices ----
    {"\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}",
     1},
    {"\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}", 0},
    {"\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", 0},
    {"\\begin{pmatrix}\\frac12\\\\1\\end{pmatrix}", "\\begin{pmatrix}0.5\\\\1\\end{pmatrix}", 1},
    {"\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}", 0},
    {"\\left[\\begin{array}{cc}1 & 0 \\\\ 0 & 1\\end{array}\\right]",
     "\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}", 1},
    // ---- plain text ----
    {"converges", "Converges", 1},
    {"\\text{converges}", "converges", 1},
    {"converges", "diverges", 0},
    {"no solution", "No Solution", 1},
    {"Yes", "No", 0},
    {"", "5", 0},
    // ---- ratios, labels, identities ----
    {"2: 3", "\\frac{2}{3}", 1},
    {"2:3", "0.6667", 1},
    {"3: 2", "\\frac{2}{3}", 0}, // the order matters
    {"2:3", "\\frac{3}{2}", 0},
    {"1:30", "1.3", 0}, // a ratio, not a time or a decimal
    {"2:3", "2:3", 1},
    {"2:3", "3:2", 0}, // a ratio gold: compared as given
    {"x: 3", "3", 0},  // a label of one name is no ratio
    {"2: 3: 4", "\\frac{2}{3}", 0},
    {"(x, y):(0,2),(0,-2)", "(0,2),(0,-2)", 1},
    {"(x, y): (0,2),(0,-2)", "(0,-2),(0,2)", 1},
    {"(x, y):(0,2),(0,-2)", "(2,0),(0,-2)", 0},
    {"(x, y):(0,2)", "(0,3)", 0},
    {"(1, 2):(0,2)", "(0,2)", 0}, // not names
    {"(x+1, y):(0,2)", "(0,2)", 0},
    {"\\left(\\begin{array}{c}2 n \\\\ n\\end{array}\\right)", "\\binom{2n}{n}",
     1}, // OCR's binomial
    {"\\binom{2n}{n}", "\\left(\\begin{array}{c}2 n \\\\ n\\end{array}\\right)", 1},
    {"\\left(\\begin{array}{c}2 n \\\\ n\\end{array}\\right)", "\\binom{2n}{n+1}", 0},
    {"\\left(\\begin{array}{c}n \\\\ 2 n\\end{array}\\right)", "\\binom{2n}{n}", 0},
    {"2\\left(\\begin{array}{c}4 \\\\ 2\\end{array}\\right)", "2\\binom{4}{2}", 1},
    {"\\left(\\begin{array}{c}6 \\\\ 2 \\\\ 1\\end{array}\\right)", "\\binom{6}{2}", 0},
    {"\\left(\\begin{array}{c}1 \\\\ 2\\end{array}\\right)", "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
     1}, // without a \binom, a column
    // tuples written as bare lists, one group per "and"
    {"1,7,103, 105 and 3, 5, 101, 107", "(1,7,103, 105), (3, 5, 101, 107)", 1},
    {"3, 5, 101, 107 and 1,7,103, 105", "(1,7,103, 105), (3, 5, 101, 107)", 1},
    {"7,1,103, 105 and 3, 5, 101, 107", "(1,7,103, 105), (3, 5, 101, 107)", 0}, // order
    {"1,7,103 and 105, 3, 5, 101, 107", "(1,7,103, 105), (3, 5, 101, 107)", 0},
    {"1, 2 and 3, 4", "(1,2),(3,4)", 1},
    {"1, 2, 3 and 4", "(1,2),(3,4)", 0}, // groups of 3 and 1
    {"1, 2, 3, 4", "(1,2),(3,4)", 0},    // no groups
    {"(1, 2) and 3, 4", "(1,2),(3,4)", 0},
    {"1, 2 and 3, 4 and 5, 6", "(1,2),(3,4)", 0},
    {"1, 2 and 3, 4", "[1,2],[3,4]", 0}, // intervals are not tuples
    {"f(y)=y+1", "f(x)=x+1", 1},         // the same function of another letter
    {"f(m)=m", "f(n)=n", 1},
    {"f(y)=\\sqrt{y}", "f(x)=\\sqrt{x}", 1},
    {"f(y)=y, f(y)=-y", "f(x)=x, f(x)=-x", 1},
    {"f(y)=y+2", "f(x)=x+1", 0},
    {"f(y)=y+x", "f(x)=x+1", 0}, // the gold's letter is taken
    {"g(y)=y+1", "f(x)=x+1", 0},
    {"f(y)=y^{2}", "f(x)=x^{2}+y", 0},
    {"f(x) \\equiv 1", "f(x)=1", 1},
    {"f(x) \\equiv 1", "1", 1},
    {"f(x)=x+1", "f(x) \\equiv x+1", 1},
    {"f(x) \\equiv 2", "f(x)=1", 0},
    {"f(x) \\equiv x", "f(x)=x+1", 0},
    {"x \\equiv 1 \\pmod{3}", "1", 0}, // a congruence stays a congruence
    {"x \\equiv 1 \\bmod 3", "x=1", 0},
};

static void test_equiv_table(void **state) {
    (void)state;
    struct reward_equiv_opts o;
    reward_equiv_opts_default(&o);
    struct reward_equiv *q;
    struct err e;
    assert_int_equal(reward_equiv_create(&o, &q, &e), 0);
    int n_wrong = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct equiv_case *c = &cases[k];
        const char *reason;
        enum reward_equiv_result r =
            reward_equiv_check(q, c->answer, strlen(c->answer), c->gold, strlen(c->gold), &reason);
        if ((r == REWARD_EQUIV_EQUAL) != c->expected) {
            printf("case %zu: '%s' vs gold '%s': expected %s, got %s (%s)\n", k, c->answer, c->gold,
                   c->expected ? "equal" : "different",
                   r == REWARD_EQUIV_EQUAL ? "equal" : "different", reason);
            n_wrong++;
        }
    }
    printf("%zu equivalence cases, %d wrong\n", sizeof cases / sizeof cases[0], n_wrong);
    assert_int_equal(n_wrong, 0);
    reward_equiv_destroy(&q);
}

// The relative tolerance is an option: 1e-2 accepts 3.14 for pi.
static void test_equiv_tolerance(void **state) {
    (void)state;
    struct reward_equiv_opts o;
    reward_equiv_opts_default(&o);
    o.rel_tol = 1e-2;
    struct reward_equiv *q;
    struct err e;
    assert_int_equal(reward_equiv_create(&o, &q, &e), 0);
    assert_int_equal(reward_equiv_check(q, "3.14", 4, "\\pi", 3, NULL), REWARD_EQUIV_EQUAL);
    // integers stay exact whatever the tolerance
    assert_int_equal(reward_equiv_check(q, "1001", 4, "1000", 4, NULL), REWARD_EQUIV_DIFFERENT);
    reward_equiv_destroy(&q);
    o.rel_tol = 2;
    assert_int_equal(reward_equiv_create(&o, &q, &e), ERR_USER);
    assert_null(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equiv_table),
        cmocka_unit_test(test_equiv_tolerance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
