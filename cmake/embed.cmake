# Turns the file IN into a C source OUT defining
#   const char api_openapi_text[]; const unsigned long api_openapi_len;
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from openapi.yaml; do not edit. */\n"
  "const char api_openapi_text[] = {${bytes}0x00};\n"
  "const unsigned long api_openapi_len = ${len}UL;\n")
