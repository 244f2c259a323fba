# Build machinery shared by the labs and the solution.
#
# A lab folder declares its files with gort_lab(); every source file becomes
# its own OBJECT library, once from the student's folder ("starter") and once
# from solution/labNN/ ("ref"). Runtimes are then *lists of object libraries*:
# the student runtime, the finished runtime, and each grader-verification
# variant pick, file by file, which copy to link. Nothing is compiled twice.

# --- flags for our own code -------------------------------------------------
add_library(gort_flags INTERFACE)
target_compile_options(gort_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror>)
# A goroutine stack's guard page catches only a frame that touches it; a big
# local array can move SP past the guard in one step. With this flag the
# compiler touches every page of a large frame in order, so the first access
# below a stack lands in its guard (not every compiler enables it by default:
# Debian's gcc 12 does not). The gort target passes it on to its consumers.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-fstack-clash-protection GORT_HAVE_STACK_CLASH_PROTECTION)
if(GORT_HAVE_STACK_CLASH_PROTECTION)
  set(GORT_STACK_CLASH_FLAG -fstack-clash-protection)
  target_compile_options(gort_flags INTERFACE
    $<$<COMPILE_LANGUAGE:C,CXX>:${GORT_STACK_CLASH_FLAG}>)
else()
  set(GORT_STACK_CLASH_FLAG "")
  message(WARNING "${CMAKE_CXX_COMPILER} has no -fstack-clash-protection: a goroutine frame "
                  "larger than a page can jump over its stack's guard page unnoticed")
endif()
target_include_directories(gort_flags INTERFACE
  ${GORT_ROOT}/runtime/include  # the public API: <gort/gort.hpp>
  ${GORT_ROOT}/runtime)         # the internal layers: "os/...", "ctx/...", "rt/..."

target_link_libraries(gort_flags INTERFACE Threads::Threads)

if(GORT_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(GORT_ASAN=1)
elseif(GORT_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(GORT_TSAN=1)
elseif(NOT GORT_SANITIZE STREQUAL "")
  message(FATAL_ERROR "GORT_SANITIZE must be empty, 'address' or 'thread' (got '${GORT_SANITIZE}')")
endif()

if(GORT_SWITCH_BACKEND STREQUAL "fcontext")
  find_package(Boost 1.70 REQUIRED COMPONENTS context)
  add_compile_definitions(GORT_SWITCH_BACKEND_FCONTEXT=1)
  target_link_libraries(gort_flags INTERFACE Boost::context)
elseif(NOT GORT_SWITCH_BACKEND STREQUAL "asm")
  message(FATAL_ERROR "GORT_SWITCH_BACKEND must be 'asm' or 'fcontext' (got '${GORT_SWITCH_BACKEND}')")
endif()

# Grading timeouts (seconds), scaled by GRADE_TIMEOUT_SCALE in the environment.
# A sanitizer build runs the same tests several times slower (TSan 5-15x on
# the scheduler's atomics), and CI and students' laptops are loaded machines:
# its limits get 4x headroom unless GRADE_TIMEOUT_SCALE says otherwise.
set(GORT_TIMEOUT_SCALE 1)
if(NOT GORT_SANITIZE STREQUAL "")
  set(GORT_TIMEOUT_SCALE 4)
endif()
if(DEFINED ENV{GRADE_TIMEOUT_SCALE})
  set(GORT_TIMEOUT_SCALE $ENV{GRADE_TIMEOUT_SCALE})
endif()

function(_gort_id out text)
  string(MAKE_C_IDENTIFIER "${text}" id)
  set(${out} ${id} PARENT_SCOPE)
endfunction()

# gort_lab(NUMBER 01 NAME threads SOURCES a.cpp b.S TESTS tests/x.cpp TIMEOUT 10)
#   SOURCES: files the student writes, relative to the lab folder; solution/labNN/
#            holds a finished file of the same name.
#   TESTS:   the lab's grader sources (doctest, GRADED_TEST cases).
#   TIMEOUT: per-test wall-clock limit in seconds before GRADE_TIMEOUT_SCALE.
function(gort_lab)
  cmake_parse_arguments(L "" "NUMBER;NAME;TIMEOUT" "SOURCES;TESTS" ${ARGN})
  set(dir ${CMAKE_CURRENT_LIST_DIR})
  set(nn ${L_NUMBER})
  if(NOT L_TIMEOUT)
    set(L_TIMEOUT 10)
  endif()
  set_property(GLOBAL APPEND PROPERTY GORT_LABS ${nn})
  set_property(GLOBAL PROPERTY GORT_LAB_${nn}_DIR ${dir})
  set_property(GLOBAL PROPERTY GORT_LAB_${nn}_NAME ${L_NAME})
  set_property(GLOBAL PROPERTY GORT_LAB_${nn}_SOURCES ${L_SOURCES})
  set_property(GLOBAL PROPERTY GORT_LAB_${nn}_TIMEOUT ${L_TIMEOUT})
  foreach(src IN LISTS L_SOURCES)
    _gort_id(id ${src})
    add_library(gort_l${nn}_${id}_starter OBJECT ${dir}/${src})
    target_link_libraries(gort_l${nn}_${id}_starter PRIVATE gort_flags)
    target_compile_definitions(gort_l${nn}_${id}_starter PRIVATE GORT_STARTER=1)
    if(GORT_HAVE_SOLUTION)
      set(ref ${GORT_ROOT}/solution/lab${nn}/${src})
      if(NOT EXISTS ${ref})
        message(FATAL_ERROR "solution/lab${nn}/${src} is missing: every lab file needs a finished copy in solution/")
      endif()
      add_library(gort_l${nn}_${id}_ref OBJECT ${ref})
      target_link_libraries(gort_l${nn}_${id}_ref PRIVATE gort_flags)
      target_include_directories(gort_l${nn}_${id}_ref PRIVATE ${GORT_ROOT}/solution/lab${nn})
      set_property(GLOBAL APPEND PROPERTY GORT_REFERENCE_OBJECT_LINES
                   "${nn} ${src} $<TARGET_OBJECTS:gort_l${nn}_${id}_ref>")
      set_property(GLOBAL APPEND PROPERTY GORT_REFERENCE_OBJECT_TARGETS gort_l${nn}_${id}_ref)
    elseif(EXISTS ${GORT_ROOT}/reference/lab${nn}/${src}.o)
      # A handed-out copy: the reference compiled by `make handout` (no
      # source), so REFERENCE= works for a student stuck on an earlier lab.
      add_library(gort_l${nn}_${id}_ref OBJECT IMPORTED)
      set_property(TARGET gort_l${nn}_${id}_ref PROPERTY
                   IMPORTED_OBJECTS ${GORT_ROOT}/reference/lab${nn}/${src}.o)
    endif()
  endforeach()
  # TESTS are relative to the lab folder (like SOURCES), not to the top directory.
  set(tests "")
  foreach(t IN LISTS L_TESTS)
    if(IS_ABSOLUTE ${t})
      list(APPEND tests ${t})
    else()
      list(APPEND tests ${dir}/${t})
    endif()
  endforeach()
  add_library(gort_l${nn}_tests OBJECT ${tests})
  target_link_libraries(gort_l${nn}_tests PRIVATE gort_flags gort_grader_api)
  target_include_directories(gort_l${nn}_tests PRIVATE ${dir}/tests)
  target_compile_definitions(gort_l${nn}_tests PRIVATE GORT_TEST_LAB="${nn}"
                             GORT_TEST_HANDOUT="labs/${nn}-${L_NAME}/README.md")
endfunction()

# Object libraries of a runtime in which labs listed in REF come from solution/
# and the others from the student folders; REPLACE_LAB/REPLACE_TARGET swap the
# named files of one lab for a mutant's object library.
function(gort_runtime_objects out)
  cmake_parse_arguments(R "" "REPLACE_LAB;REPLACE_TARGET" "REF;REPLACE_FILES" ${ARGN})
  get_property(labs GLOBAL PROPERTY GORT_LABS)
  set(objs gort_common)
  foreach(nn IN LISTS labs)
    get_property(srcs GLOBAL PROPERTY GORT_LAB_${nn}_SOURCES)
    set(kind starter)
    if(nn IN_LIST R_REF)
      set(kind ref)
    endif()
    foreach(src IN LISTS srcs)
      _gort_id(id ${src})
      if(nn STREQUAL R_REPLACE_LAB AND src IN_LIST R_REPLACE_FILES)
        continue()
      endif()
      list(APPEND objs gort_l${nn}_${id}_${kind})
    endforeach()
  endforeach()
  if(R_REPLACE_TARGET)
    list(APPEND objs ${R_REPLACE_TARGET})
  endif()
  set(${out} ${objs} PARENT_SCOPE)
endfunction()

# A grader executable: the tests of TEST_LABS linked with the given runtime objects.
function(gort_grader_exe name)
  cmake_parse_arguments(G "" "" "TEST_LABS;OBJECTS" ${ARGN})
  add_executable(${name})
  foreach(nn IN LISTS G_TEST_LABS)
    target_link_libraries(${name} PRIVATE gort_l${nn}_tests)
  endforeach()
  target_link_libraries(${name} PRIVATE gort_grader_main ${G_OBJECTS} gort_flags gort_grader_api)
endfunction()

# doctest_discover_tests() for a grader, with ctest LABELS that survive:
# doctest's generated script always appends its own (usually empty) LABELS
# after PROPERTIES, which would erase ours. So the labels are set by a second
# include file that runs after doctest's and walks the list it defines.
function(_gort_discover_tests target prefix labels timeout)
  doctest_discover_tests(${target} TEST_PREFIX "${prefix}" PROPERTIES TIMEOUT ${timeout})
  set(fix ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${fix} "foreach(t IN LISTS ${target}_TESTS)\n"
                    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${labels}\")\n"
                    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${fix})
endfunction()

function(_gort_parse_reference out)
  get_property(labs GLOBAL PROPERTY GORT_LABS)
  string(REPLACE "," ";" req "${GORT_REFERENCE}")
  set(result "")
  foreach(r IN LISTS req)
    string(STRIP "${r}" r)
    if(r STREQUAL "")
      continue()
    elseif(r STREQUAL "all")
      set(result ${labs})
    elseif(r MATCHES "^[0-9]$")
      list(APPEND result 0${r})
    elseif(r MATCHES "^[0-9][0-9]$")
      list(APPEND result ${r})
    else()
      message(FATAL_ERROR "REFERENCE=${GORT_REFERENCE}: '${r}' is not a lab number (write e.g. REFERENCE=01,02 or REFERENCE=all)")
    endif()
  endforeach()
  foreach(r IN LISTS result)
    if(NOT r IN_LIST labs)
      message(FATAL_ERROR "REFERENCE=${GORT_REFERENCE}: there is no lab ${r} (labs here: ${labs})")
    endif()
  endforeach()
  if(result AND NOT GORT_HAVE_SOLUTION)
    foreach(r IN LISTS result)
      get_property(srcs GLOBAL PROPERTY GORT_LAB_${r}_SOURCES)
      foreach(src IN LISTS srcs)
        if(NOT EXISTS ${GORT_ROOT}/reference/lab${r}/${src}.o)
          message(FATAL_ERROR "REFERENCE=${GORT_REFERENCE} needs the reference implementation of lab ${r} "
            "(solution/ or the precompiled reference/lab${r}/), which this copy of the course does not have. "
            "Ask your instructor for it, or grade without REFERENCE.")
        endif()
      endforeach()
    endforeach()
    if(NOT GORT_SANITIZE STREQUAL "")
      message(FATAL_ERROR "REFERENCE= cannot be combined with a sanitizer build in this copy: the "
        "precompiled reference/ objects are not instrumented. Drop SANITIZE= or REFERENCE=.")
    endif()
  endif()
  list(REMOVE_DUPLICATES result)
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# Called once every lab is declared: the student runtime, the graders, and
# (with the solution present) the grader-verification variants.
function(gort_finalize_labs)
  get_property(labs GLOBAL PROPERTY GORT_LABS)
  _gort_parse_reference(ref_labs)
  set_property(GLOBAL PROPERTY GORT_REFERENCE_LABS ${ref_labs})
  message(STATUS "gort labs: ${labs}; taken from solution/: ${ref_labs}")

  gort_runtime_objects(student_objs REF ${ref_labs})
  add_library(gort_student STATIC)
  target_link_libraries(gort_student PUBLIC gort_flags ${student_objs})

  # What `make handout` ships as the precompiled reference (reference/labNN/).
  get_property(ref_lines GLOBAL PROPERTY GORT_REFERENCE_OBJECT_LINES)
  get_property(ref_targets GLOBAL PROPERTY GORT_REFERENCE_OBJECT_TARGETS)
  if(ref_targets)
    string(REPLACE ";" "\n" ref_text "${ref_lines}")
    file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/reference-objects.txt CONTENT "${ref_text}\n")
    add_custom_target(reference-objects)
    add_dependencies(reference-objects ${ref_targets})
  endif()

  set(manifest "")
  foreach(nn IN LISTS labs)
    get_property(timeout GLOBAL PROPERTY GORT_LAB_${nn}_TIMEOUT)
    math(EXPR t "${timeout} * ${GORT_TIMEOUT_SCALE}")
    gort_grader_exe(lab${nn}_grader TEST_LABS ${nn} OBJECTS ${student_objs})
    string(APPEND manifest "${nn} ${t} $<TARGET_FILE:lab${nn}_grader>\n")
    if(NOT GORT_HAVE_SOLUTION)
      # A handed-out copy: ctest runs the student's graders directly.
      _gort_discover_tests(lab${nn}_grader "lab${nn}/" "grade;lab${nn}" ${t})
    endif()
  endforeach()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/grade-manifest.txt CONTENT "${manifest}")
  add_custom_target(graders)
  foreach(nn IN LISTS labs)
    add_dependencies(graders lab${nn}_grader)
  endforeach()

  if(GORT_HAVE_SOLUTION AND GORT_VERIFY_GRADERS)
    _gort_verify_variants()
  endif()
endfunction()

function(_gort_verify_variants)
  get_property(labs GLOBAL PROPERTY GORT_LABS)
  find_program(GORT_PATCH patch)
  if(NOT GORT_PATCH)
    message(FATAL_ERROR "the grader checks need 'patch' to build the mutants: sudo apt-get install patch (make test installs it)")
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(gradelib ${GORT_ROOT}/grader/gradelib.py)
  set(upto "")
  set(before "")
  foreach(nn IN LISTS labs)
    list(APPEND upto ${nn})
    get_property(timeout GLOBAL PROPERTY GORT_LAB_${nn}_TIMEOUT)
    math(EXPR t "${timeout} * ${GORT_TIMEOUT_SCALE}")
    get_property(srcs GLOBAL PROPERTY GORT_LAB_${nn}_SOURCES)

    # (b) reference for labs <= NN, the pristine starters after it: every test passes.
    gort_runtime_objects(ref_objs REF ${upto})
    gort_grader_exe(verify_lab${nn}_reference TEST_LABS ${upto} OBJECTS ${ref_objs})
    _gort_discover_tests(verify_lab${nn}_reference "reference/lab${nn}: "
      "verify;reference;lab${nn}" ${t})

    if(NOT GORT_VERIFY_MUTANTS)
      list(APPEND before ${nn})
      continue()
    endif()
    # (a) pristine starter for lab NN (+ reference before it): lab NN's graded
    #     tests all fail, earlier labs' tests all pass.
    gort_runtime_objects(starter_objs REF ${before})
    gort_grader_exe(verify_lab${nn}_starter TEST_LABS ${upto} OBJECTS ${starter_objs})
    add_test(NAME "verify/lab${nn}/starter-fails"
      COMMAND Python3::Interpreter ${gradelib} verify --mode starter --lab ${nn}
              --timeout ${t} --exe $<TARGET_FILE:verify_lab${nn}_starter>)
    set_tests_properties("verify/lab${nn}/starter-fails" PROPERTIES LABELS "verify;lab${nn}")

    # (c) each mutant is caught by the test its EXPECT file names.
    file(GLOB mutant_dirs LIST_DIRECTORIES true ${GORT_ROOT}/solution/mutants/lab${nn}/*)
    foreach(mdir IN LISTS mutant_dirs)
      if(NOT IS_DIRECTORY ${mdir})
        continue()
      endif()
      get_filename_component(mname ${mdir} NAME)
      _gort_id(mid ${mname})
      if(NOT EXISTS ${mdir}/EXPECT)
        message(FATAL_ERROR "mutant ${mdir} has no EXPECT file naming the test that must catch it")
      endif()
      # A mutant is a patch against the solution file of the same name
      # (<file>.patch), applied at build time, so it follows every later edit
      # of the solution; a patch that no longer applies fails the build and
      # names the mutant.
      set(mfiles "")
      set(mpaths "")
      foreach(src IN LISTS srcs)
        if(EXISTS ${mdir}/${src}.patch)
          set(out ${CMAKE_BINARY_DIR}/mutants/lab${nn}/${mname}/${src})
          add_custom_command(OUTPUT ${out}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/mutants/lab${nn}/${mname}
            COMMAND ${GORT_PATCH} --silent --fuzz=0 --reject-file=${out}.rej
                    --output=${out} ${GORT_ROOT}/solution/lab${nn}/${src} ${mdir}/${src}.patch
            DEPENDS ${GORT_ROOT}/solution/lab${nn}/${src} ${mdir}/${src}.patch
            COMMENT "mutant lab${nn}/${mname}: patching solution/lab${nn}/${src}"
            VERBATIM)
          list(APPEND mfiles ${src})
          list(APPEND mpaths ${out})
        endif()
      endforeach()
      if(NOT mfiles)
        message(FATAL_ERROR "mutant ${mdir} patches no file of lab ${nn}: expected <file>.patch for one of ${srcs}")
      endif()
      add_library(gort_mut_l${nn}_${mid} OBJECT ${mpaths})
      target_link_libraries(gort_mut_l${nn}_${mid} PRIVATE gort_flags)
      target_include_directories(gort_mut_l${nn}_${mid} PRIVATE ${GORT_ROOT}/solution/lab${nn})
      gort_runtime_objects(mut_objs REF ${upto} REPLACE_LAB ${nn} REPLACE_FILES ${mfiles}
                           REPLACE_TARGET gort_mut_l${nn}_${mid})
      gort_grader_exe(verify_lab${nn}_mutant_${mid} TEST_LABS ${nn} OBJECTS ${mut_objs})
      add_test(NAME "verify/lab${nn}/mutant/${mname}"
        COMMAND Python3::Interpreter ${gradelib} verify --mode mutant --lab ${nn}
                --timeout ${t} --expect-file ${mdir}/EXPECT
                --exe $<TARGET_FILE:verify_lab${nn}_mutant_${mid}>)
      set_tests_properties("verify/lab${nn}/mutant/${mname}" PROPERTIES LABELS "verify;mutant;lab${nn}")
    endforeach()
    list(APPEND before ${nn})
  endforeach()
endfunction()

# gort_demo(target [ARGS ...]): `make demo` runs it, in the order declared.
# Demos and benchmarks are not part of `all`: only `demos` / `benches` build them.
function(gort_demo target)
  set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
  list(JOIN ARGN " " args)
  set_property(GLOBAL APPEND PROPERTY GORT_DEMOS "$<TARGET_FILE:${target}> ${args}")
  set_property(GLOBAL APPEND PROPERTY GORT_DEMO_TARGETS ${target})
endfunction()

# gort_bench(target [ARGS ...]): `make bench` runs it; it prints one line
# `name value unit` per figure (see bench/README.md).
function(gort_bench target)
  set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
  list(JOIN ARGN " " args)
  set_property(GLOBAL APPEND PROPERTY GORT_BENCHES "$<TARGET_FILE:${target}> ${args}")
  set_property(GLOBAL APPEND PROPERTY GORT_BENCH_TARGETS ${target})
endfunction()

# The runtime the demos and benchmarks link: the finished one where solution/
# is present (the instructor's tree), otherwise the student's own (the
# handed-out copy), so a student runs Lab 01's timing, Lab 02's switch cost and
# Lab 03's scheduler against Go on their own code. An unfinished task makes a
# demo stop with "not implemented yet: lab NN task K", named by run-list.sh.
function(gort_demo_runtime_setup)
  add_library(gort_demo_runtime INTERFACE)
  if(GORT_HAVE_SOLUTION)
    target_link_libraries(gort_demo_runtime INTERFACE gort::gort gort_flags)
  else()
    target_link_libraries(gort_demo_runtime INTERFACE gort_student gort_flags)
  endif()
endfunction()

# demos.txt / benches.txt: what `make demo` / `make bench` run, in order.
function(gort_write_run_lists)
  get_property(demos GLOBAL PROPERTY GORT_DEMOS)
  get_property(demo_targets GLOBAL PROPERTY GORT_DEMO_TARGETS)
  get_property(benches GLOBAL PROPERTY GORT_BENCHES)
  get_property(bench_targets GLOBAL PROPERTY GORT_BENCH_TARGETS)
  string(REPLACE ";" "\n" demo_lines "${demos}")
  string(REPLACE ";" "\n" bench_lines "${benches}")
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/demos.txt CONTENT "${demo_lines}\n")
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/benches.txt CONTENT "${bench_lines}\n")
  add_custom_target(demos DEPENDS ${demo_targets})
  add_custom_target(benches DEPENDS ${bench_targets})
endfunction()
