import unittest

from textkit import slugify, word_count


class SlugifyTest(unittest.TestCase):
    def test_plain_words(self) -> None:
        self.assertEqual(slugify("Hello World"), "hello-world")

    def test_punctuation_is_dropped(self) -> None:
        self.assertEqual(slugify("Hello, World!"), "hello-world")

    def test_extra_spaces_collapse(self) -> None:
        self.assertEqual(slugify("  many   spaces here "), "many-spaces-here")


class WordCountTest(unittest.TestCase):
    def test_counts_words(self) -> None:
        self.assertEqual(word_count("one two  three"), 3)


if __name__ == "__main__":
    unittest.main()
