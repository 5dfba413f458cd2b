import functools
import math
import operator
import unittest

from fastsum import ksum


class KSum(unittest.TestCase):
    def test_exact_where_naive_sum_is_not(self):
        values = [1e100, 1.0, -1e100, 1.0]
        # (Python 3.12's sum() compensates too, so compare with plain left-to-right addition.)
        self.assertNotEqual(functools.reduce(operator.add, values), 2.0)
        self.assertEqual(ksum(values), 2.0)

    def test_matches_fsum(self):
        values = [0.1] * 1000 + [1e-10, -3.5, 2.25]
        self.assertEqual(ksum(values), math.fsum(values))

    def test_rejects_non_numbers(self):
        with self.assertRaises(TypeError):
            ksum(["a"])


if __name__ == "__main__":
    unittest.main()
